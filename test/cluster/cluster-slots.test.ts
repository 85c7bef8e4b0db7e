// Concurrency slots shared through a real redis-server: two nodes' slot counters on one store
// never hold more than the limit between them; a slot given back on one is free for the other;
// slots of a node that stops renewing free themselves when their lease runs out; and while the
// store cannot be reached, a node runs under its own count rather than refusing every call.
import t from 'tap';
import type { Test } from 'tap';
import { ClusterSlots } from '../../dist/cluster/cluster-slots.js';
import { systemClock } from '../../dist/common/clock.js';
import { createRedisStores } from '../../dist/store/redis-backend.js';
import type { SlotStore } from '../../dist/store/slot-store.js';
import { until } from '../helpers/cluster.js';
import { startRedis } from '../helpers/redis.js';
import { tempDir } from '../helpers/temp-dir.js';

async function slotStore(t: Test): Promise<SlotStore | undefined> {
  const redis = await startRedis(t);
  if (!redis) return undefined;
  const stores = await createRedisStores(redis.url, `slots-${process.pid}:`, tempDir(), () => undefined);
  t.teardown(() => stores.close());
  return stores.cluster!.slots;
}

const node = (store: SlotStore, owner: string, leaseMs = 5000, log: (message: string) => void = () => undefined) =>
  new ClusterSlots({ store, owner, leaseMs, clock: systemClock, log });

t.test('two nodes share one limit, and a slot given back on one is free on the other', async (t) => {
  const store = await slotStore(t);
  if (!store) return;
  const a = node(store, 'a/1');
  const b = node(store, 'b/1');
  t.teardown(() => (a.close(), b.close()));
  const onA = await a.take('fn', 3, 2);
  t.equal(onA.length, 2, 'a takes 2 of 3');
  const onB = await b.take('fn', 3, 5);
  t.equal(onB.length, 1, 'b gets the one left, though it asked for 5');
  t.equal(b.count('fn'), 1, 'and b counts only the one it holds');
  t.same(await b.take('fn', 3, 1), [], 'the cluster is full');
  t.equal((await a.take('other', 3, 1)).length, 1, 'another function has slots of its own');
  onA[0]!();
  onA[0]!();
  t.equal(a.count('fn'), 1, 'giving a slot back twice gives it back once');
  const again = await until(async () => {
    const taken = await b.take('fn', 3, 1);
    return taken.length === 1 ? taken : undefined;
  });
  t.equal(again.length, 1, 'the slot a gave back is b’s to take');
  t.same(await a.take('fn', 3, 1), [], 'and the cluster is full again');
});

t.test('a node that stops renewing frees its slots when their lease runs out; one that renews keeps them', async (t) => {
  const store = await slotStore(t);
  if (!store) return;
  const dead = node(store, 'dead/1', 300);
  const alive = node(store, 'alive/1', 300);
  t.teardown(() => alive.close());
  t.equal((await dead.take('fn', 2, 1)).length, 1);
  t.equal((await alive.take('fn', 2, 1)).length, 1);
  // As if the process died: no more renewals, nothing given back.
  dead.close();
  const other = node(store, 'other/1', 300);
  t.teardown(() => other.close());
  const taken = await until(async () => {
    const got = await other.take('fn', 2, 2);
    return got.length > 0 ? got : undefined;
  });
  t.equal(taken.length, 1, 'the dead node’s slot came free; the renewing node’s did not');
});

t.test('while the store cannot be reached, a node holds the limit on its own count', async (t) => {
  const failing: SlotStore = {
    take: async () => {
      throw new Error('connection is closed');
    },
    renew: async () => undefined,
    release: async () => {
      throw new Error('connection is closed');
    },
  };
  const logged: string[] = [];
  const alone = node(failing, 'a/1', 5000, (message) => logged.push(message));
  t.teardown(() => alone.close());
  const taken = await alone.take('fn', 2, 3);
  t.equal(taken.length, 2, 'this node’s count still caps it at the limit');
  t.same(await alone.take('fn', 2, 1), []);
  for (const release of taken) release();
  t.equal((await alone.take('fn', 2, 1)).length, 1, 'given back here, a slot is free here again');
  t.equal(logged.length, 1, 'the outage is logged once');
  t.match(logged[0], /per node/);
});
