// Membership against a real redis-server: nodes register with incarnations and renew leases on
// Redis's clock; a node that cannot renew fences itself and rejoins as a new incarnation; the
// reaper declares a node dead once its lease and the margin have passed; a second process
// taking the same node id fences the first.
import t from 'tap';
import { once, EventEmitter } from 'node:events';
import type { Test } from 'tap';
import { Membership, type MembershipTiming } from '../../dist/cluster/membership.js';
import { createRedisStores } from '../../dist/store/redis-backend.js';
import type { MembershipStore, NodeReport } from '../../dist/store/membership-store.js';
import { startRedis } from '../helpers/redis.js';
import { tempDir } from '../helpers/temp-dir.js';

const TIMING: MembershipTiming = { heartbeatMs: 40, leaseMs: 300, deadMarginMs: 100 };
const REPORT: NodeReport = { address: 'http://127.0.0.1:1', capacity: { cpu: 2000, memory: 1024, custom: { gpu: 1 } }, allocated: { cpu: 0, memory: 0, custom: {} }, instances: 0 };

async function membershipStore(t: Test, url: string, prefix: string): Promise<MembershipStore> {
  const stores = await createRedisStores(url, prefix, tempDir(), () => undefined);
  t.teardown(() => stores.close());
  return stores.cluster!.membership;
}

/** A member whose listener events come out of an emitter, to be awaited. */
function member(t: Test, store: MembershipStore, nodeId: string, timing = TIMING) {
  const events = new EventEmitter();
  const membership = new Membership({ ...timing, store, nodeId, report: () => REPORT, log: () => undefined });
  membership.listen({
    fenced: (why) => events.emit('fenced', why),
    joined: (incarnation) => events.emit('joined', incarnation),
    reaped: (dead) => events.emit('reaped', dead),
  });
  t.teardown(() => membership.close());
  return { membership, events };
}

t.test('nodes register with distinct incarnations and are listed by the store', async (t) => {
  const redis = await startRedis(t);
  if (!redis) return;
  const store = await membershipStore(t, redis.url, 'm1:');
  const a = member(t, store, 'a');
  const b = member(t, store, 'b');
  t.equal(await a.membership.join(), 0, 'no earlier incarnation to wait for');
  await b.membership.join();
  t.not(a.membership.incarnation, b.membership.incarnation);
  t.ok(a.membership.holdsLease());
  const { nodes } = await store.nodes();
  t.same(
    nodes.map((n) => [n.id, n.state, n.address, n.capacity.custom]),
    [
      ['a', 'active', REPORT.address, { gpu: 1 }],
      ['b', 'active', REPORT.address, { gpu: 1 }],
    ],
  );
  t.same(nodes[0]!.allocated.custom, {}, 'an empty object stays an object through Lua');
  await a.membership.close();
  t.equal((await store.nodes()).nodes[0]!.state, 'left', 'a node that closes has left');
  t.notOk(a.membership.holdsLease());
});

t.test('a node that cannot reach the store fences itself at the end of its lease, then rejoins as a new incarnation', async (t) => {
  const redis = await startRedis(t);
  if (!redis) return;
  const store = await membershipStore(t, redis.url, 'm2:');
  const a = member(t, store, 'a');
  await a.membership.join();
  const first = a.membership.incarnation;
  const fenced = once(a.events, 'fenced');
  redis.pause();
  const [why] = await fenced;
  t.match(why, /lease ran out/);
  t.notOk(a.membership.holdsLease(), 'no longer answers for its instances');
  t.equal(a.membership.state, 'fenced');
  const joined = once(a.events, 'joined');
  redis.resume();
  const [incarnation] = await joined;
  t.ok(incarnation > first, 'a new incarnation');
  t.ok(a.membership.holdsLease());
});

t.test('a registration the store answers too late to keep its lease is not a rejoin: the node registers again', async (t) => {
  const redis = await startRedis(t);
  if (!redis) return;
  const store = await membershipStore(t, redis.url, 'm5:');
  // The next registration's answer arrives a whole lease after it was sent, as when a paused
  // Redis answers its backlog.
  let lateOnce = false;
  const late = new Proxy(store, {
    get(target, key) {
      const value: unknown = Reflect.get(target, key, target);
      if (typeof value !== 'function') return value;
      if (key !== 'register') return value.bind(target);
      return async (...args: unknown[]) => {
        const answer: unknown = await value.apply(target, args);
        if (lateOnce) {
          lateOnce = false;
          await new Promise((resolve) => setTimeout(resolve, TIMING.leaseMs));
        }
        return answer;
      };
    },
  });
  const logged: string[] = [];
  const events = new EventEmitter();
  const membership = new Membership({ ...TIMING, store: late, nodeId: 'a', report: () => REPORT, log: (message) => logged.push(message) });
  membership.listen({ fenced: (why) => events.emit('fenced', why), joined: (incarnation) => events.emit('joined', incarnation, membership.holdsLease()) });
  t.teardown(() => membership.close());
  await membership.join();
  const first = membership.incarnation;
  const fenced = once(events, 'fenced');
  redis.pause();
  await fenced;
  lateOnce = true;
  const joined = once(events, 'joined');
  redis.resume();
  const [incarnation, holding] = await joined;
  t.ok(holding, 'the node that says it rejoined holds its lease');
  t.equal(incarnation, first + 2, 'the registration answered too late was not taken: the next one was');
  t.ok(logged.some((line) => /too late to keep the lease/.test(line)), 'and it said why');
});

t.test('the reaper declares a node dead once its lease and the margin have passed, once', async (t) => {
  const redis = await startRedis(t);
  if (!redis) return;
  const store = await membershipStore(t, redis.url, 'm3:');
  const a = member(t, store, 'a');
  const b = member(t, store, 'b');
  await a.membership.join();
  await b.membership.join();
  // A node that registered and then stopped renewing (it died).
  const { incarnation } = await store.register('gone', REPORT, TIMING.leaseMs);
  const reaped: string[] = [];
  const seen = (dead: { id: string; incarnation: number }[]) => reaped.push(...dead.map((n) => `${n.id}/${n.incarnation}`));
  a.events.on('reaped', seen);
  b.events.on('reaped', seen);
  await Promise.race([once(a.events, 'reaped'), once(b.events, 'reaped')]);
  const gone = (await store.nodes()).nodes.find((n) => n.id === 'gone')!;
  t.equal(gone.state, 'dead');
  t.ok(gone.leaseUntil + TIMING.deadMarginMs < (await store.nodes()).now, 'not before its lease and the margin ended');
  t.same(reaped, [`gone/${incarnation}`], 'declared dead once, by one reaper');
  t.ok(a.membership.holdsLease() && b.membership.holdsLease(), 'the live nodes are untouched');
  t.equal((await store.renew('gone', incarnation, REPORT, TIMING.leaseMs)).ok, false, 'a dead node cannot renew its way back');
});

t.test('a second process registering the same node id fences the first, which says why', async (t) => {
  const redis = await startRedis(t);
  if (!redis) return;
  const store = await membershipStore(t, redis.url, 'm4:');
  const a = member(t, store, 'a');
  await a.membership.join();
  const fenced = once(a.events, 'fenced');
  const { incarnation, previous } = await store.register('a', REPORT, TIMING.leaseMs);
  t.equal(previous?.incarnation, a.membership.incarnation, 'the register call sees whom it replaced');
  const [why] = await fenced;
  t.match(why, /another process registered node id "a"/);
  t.ok(incarnation > 0);
  // The second's join must wait for the first's lease and margin.
  const b = member(t, store, 'a');
  const waitMs = await b.membership.join();
  t.ok(waitMs > 0 && waitMs <= TIMING.leaseMs + TIMING.deadMarginMs, `waits ${waitMs} ms for an earlier live incarnation`);
});

t.test('the shared secret is the first one offered', async (t) => {
  const redis = await startRedis(t);
  if (!redis) return;
  const store = await membershipStore(t, redis.url, 'm5:');
  t.equal(await store.sharedSecret('internal', 'first-secret-xxxxxxxx'), 'first-secret-xxxxxxxx');
  t.equal(await store.sharedSecret('internal', 'second-secret-xxxxxxx'), 'first-secret-xxxxxxxx');
  t.equal(await store.sharedSecret('callbacks', 'another-secret-xxxxxxx'), 'another-secret-xxxxxxx', 'each name is its own secret');
});
