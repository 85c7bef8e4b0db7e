import t from 'tap';
import { invoke, mustDeploy, startWisp } from './helpers/wisp.js';

t.test('GET /healthz', async (t) => {
  const app = await startWisp(t);
  const res = await app.inject('/healthz');
  t.equal(res.statusCode, 200);
  t.same(res.json(), { status: 'ok', saturated: [] });
});

t.test('GET /v1/node shows the pool by memory tier', async (t) => {
  const app = await startWisp(t, { pool: { maxThreads: 2 } });
  await mustDeploy(t, app, 'small', 'export const config = { memoryMb: 64 };\nexport default () => 1;');
  await invoke(app, 'small');
  const node = (await app.inject('/v1/node')).json();
  t.equal(node.pool.maxThreadsPerTier, 2);
  t.equal(node.pool.inFlight, 0);
  t.type(node.cores, 'number');
  const tiers = node.pool.tiers.map((tier: { memoryMb: number }) => tier.memoryMb).sort();
  t.same(tiers, [128, 64].sort(), 'the default tier and the 64 MB tier');
  const small = node.pool.tiers.find((tier: { memoryMb: number }) => tier.memoryMb === 64);
  t.equal(small.completed, 1);
});
