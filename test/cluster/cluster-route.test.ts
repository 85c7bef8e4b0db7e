// GET /v1/cluster: one node in mode "single" on the embedded store; every node that joined, in
// mode "cluster", on a shared Redis, where a node that closes is shown as left.
import t from 'tap';
import { startRedis } from '../helpers/redis.js';
import { startWisp } from '../helpers/wisp.js';

const FAST = { heartbeatMs: 50, leaseMs: 400, deadMarginMs: 100 };

t.test('a Wisp on the embedded store is a cluster of one', async (t) => {
  const app = await startWisp(t, { store: { redisUrl: null } });
  const res = await app.inject({ method: 'GET', url: '/v1/cluster' });
  t.equal(res.statusCode, 200);
  const view = res.json();
  t.equal(view.mode, 'single');
  t.equal(view.nodes.length, 1);
  t.equal(view.nodes[0].id, view.self);
  t.equal(view.nodes[0].state, 'active');
  t.same(view.nodes[0].capacity, app.wisp.resources.capacity);
});

t.test('on a shared Redis every node is listed, with its state, lease age and resources', async (t) => {
  const redis = await startRedis(t);
  if (!redis) return;
  const store = { redisUrl: redis.url, redisPrefix: 'route:' };
  const a = await startWisp(t, { store, cluster: { ...FAST, nodeId: 'node-a' }, node: { cpu: 3000, memory: 2048, custom: { gpu: 2 } } });
  const b = await startWisp(t, { store, cluster: { ...FAST, nodeId: 'node-b' } });
  const view = (await b.inject({ method: 'GET', url: '/v1/cluster' })).json();
  t.equal(view.mode, 'cluster');
  t.equal(view.self, 'node-b');
  t.same(view.nodes.map((n: { id: string; state: string }) => [n.id, n.state]), [
    ['node-a', 'active'],
    ['node-b', 'active'],
  ]);
  const nodeA = view.nodes[0];
  t.same(nodeA.capacity, { cpu: 3000, memory: 2048, custom: { gpu: 2 } }, 'each node reports its own capacity');
  t.ok(nodeA.leaseAgeMs >= 0 && nodeA.leaseAgeMs < FAST.leaseMs, `renewed ${nodeA.leaseAgeMs} ms ago`);
  t.not(nodeA.incarnation, view.nodes[1].incarnation);
  await a.close();
  const after = (await b.inject({ method: 'GET', url: '/v1/cluster' })).json();
  t.equal(after.nodes[0].state, 'left');
});
