// Any node serves any function: deployed, rolled back, deleted or given secrets on one node, it
// is served that way by another at once, with no restart (both on one Redis, in process).
import t, { type Test } from 'tap';
import { until } from '../helpers/cluster.js';
import { startRedis } from '../helpers/redis.js';
import { invoke, mustDeploy, startWisp, type App } from '../helpers/wisp.js';

const FAST = { heartbeatMs: 50, leaseMs: 400, deadMarginMs: 100 };

async function twoNodes(t: Test, prefix: string): Promise<[App, App] | undefined> {
  const redis = await startRedis(t);
  if (!redis) return undefined;
  const store = { redisUrl: redis.url, redisPrefix: prefix };
  return [await startWisp(t, { store, cluster: { ...FAST, nodeId: 'a' } }), await startWisp(t, { store, cluster: { ...FAST, nodeId: 'b' } })];
}


t.test('a function deployed on one node is invoked on another at once', async (t) => {
  const nodes = await twoNodes(t, 'shared1:');
  if (!nodes) return;
  const [a, b] = nodes;
  await mustDeploy(t, a, 'greet', 'export default (i: { name: string }) => `hello ${i.name}`;');
  const res = await invoke(b, 'greet', { name: 'Ann' });
  t.equal(res.statusCode, 200, 'no wait for a message: a name not known is looked up in the store');
  t.equal(res.json(), 'hello Ann');
  const submitted = await b.inject({ method: 'POST', url: '/v1/functions/greet/invocations', payload: { name: 'Bo' } });
  t.equal(submitted.statusCode, 202, 'asynchronous submissions too');
});

t.test('a redeploy, a rollback and a delete on one node are what the other serves next', async (t) => {
  const nodes = await twoNodes(t, 'shared2:');
  if (!nodes) return;
  const [a, b] = nodes;
  await mustDeploy(t, a, 'v', 'export default () => 1;');
  t.equal((await invoke(b, 'v', null)).json(), 1);
  await mustDeploy(t, a, 'v', 'export default () => 2;');
  await until(async () => (await invoke(b, 'v', null)).json() === 2);
  t.pass('the new version is served by the other node');
  t.equal((await a.inject({ method: 'PATCH', url: '/v1/functions/v', payload: { activeVersion: 1 } })).statusCode, 200);
  await until(async () => (await invoke(b, 'v', null)).json() === 1);
  t.pass('so is the rollback');
  t.equal((await a.inject({ method: 'DELETE', url: '/v1/functions/v' })).statusCode, 204);
  await until(async () => (await invoke(b, 'v', null)).statusCode === 404);
  t.equal((await b.inject({ method: 'GET', url: '/v1/functions' })).json().functions.length, 0, 'and the delete');
});

t.test('secrets set on one node are what the function sees on the other', async (t) => {
  const nodes = await twoNodes(t, 'shared3:');
  if (!nodes) return;
  const [a, b] = nodes;
  await mustDeploy(t, a, 'env', 'export default (_i: unknown, ctx: { env: Record<string, string> }) => ctx.env.COLOR ?? "none";');
  t.equal((await invoke(b, 'env', null)).json(), 'none');
  t.equal((await a.inject({ method: 'PATCH', url: '/v1/functions/env/env', payload: { COLOR: 'blue' } })).statusCode, 200);
  await until(async () => (await invoke(b, 'env', null)).json() === 'blue');
  t.pass('the new value reaches the other node');
});
