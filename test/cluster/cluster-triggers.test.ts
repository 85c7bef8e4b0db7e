// Triggers on a cluster: a cron trigger created on one node is armed on every node, so that its
// schedule keeps going when that node dies, and each scheduled time still runs once; a webhook
// trigger made on one node takes deliveries on another.
import t from 'tap';
import { startCluster, until, type ClusterNodeProcess } from '../helpers/cluster.js';
import { send } from '../helpers/process.js';

const TICK = 'export default (input: unknown) => input;';

t.test('a cron trigger keeps its schedule when the node it was created on dies, once per scheduled time', async (t) => {
  const cluster = await startCluster(t, 2);
  if (!cluster) return;
  const [a, b] = cluster.nodes as [ClusterNodeProcess, ClusterNodeProcess];
  t.equal((await send(a.url, 'PUT', '/v1/functions/tick', TICK)).status, 201);
  const trigger = await send(a.url, 'POST', '/v1/functions/tick/triggers', { type: 'cron', schedule: '* * * * * *', input: { hello: 'cron' } });
  t.equal(trigger.status, 201);
  const count = async () => ((await send(b.url, 'GET', '/v1/invocations?function=tick&limit=500')).json.invocations as unknown[]).length;
  await until(async () => (await count()) >= 2);
  a.process.child.kill('SIGKILL');
  await a.process.exited;
  const atKill = await count();
  await until(async () => (await count()) >= atKill + 3);
  t.pass('runs go on after the node that created the trigger died');
  const runs = (await send(b.url, 'GET', '/v1/invocations?function=tick&limit=500')).json.invocations as { triggerId: string; idempotencyKey?: string; createdAt: string }[];
  const keys = runs.map((run) => run.idempotencyKey ?? run.createdAt);
  t.equal(new Set(keys).size, keys.length, 'each scheduled time ran once, though both nodes armed it');
});
