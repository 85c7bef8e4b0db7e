// Triggers on a cluster: a cron trigger created on one node is armed on every node, so that its
// schedule keeps going when that node dies, and each scheduled time still runs once; a webhook
// trigger made on one node takes deliveries on another.
import t from 'tap';
import { createHmac } from 'node:crypto';
import { startCluster, until, type ClusterNodeProcess } from '../helpers/cluster.js';
import { send } from '../helpers/process.js';

const TICK = 'export default (input: unknown) => input;';

t.test('a cron trigger keeps its schedule when the node it was created on dies, once per scheduled time', async (t) => {
  // A run cut off by the kill holds its attempt's lease until it runs out; meanwhile the next
  // runs are skipped (the previous run is unfinished). A short lease keeps that wait short.
  const cluster = await startCluster(t, 2, { config: { invocations: { leaseMs: 2000 } } });
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

t.test('the same webhook delivery sent to two nodes at once makes one invocation', async (t) => {
  const cluster = await startCluster(t, 2);
  if (!cluster) return;
  const [a, b] = cluster.nodes as [ClusterNodeProcess, ClusterNodeProcess];
  t.equal((await send(a.url, 'PUT', '/v1/functions/tick', TICK)).status, 201);
  const key = Buffer.from('standard webhooks test key 32 b!');
  const trigger = await send(a.url, 'POST', '/v1/functions/tick/triggers', { type: 'webhook', scheme: 'standard', secret: `whsec_${key.toString('base64')}` });
  t.equal(trigger.status, 201);
  for (let round = 0; round < 10; round++) {
    const ts = Math.floor(Date.now() / 1000);
    const body = JSON.stringify({ round });
    const id = `msg_${round}`;
    const signature = createHmac('sha256', key).update(`${id}.${ts}.${body}`).digest('base64');
    const deliver = (node: ClusterNodeProcess) =>
      fetch(`${node.url}${trigger.json.url}`, { method: 'POST', headers: { 'content-type': 'application/json', 'webhook-id': id, 'webhook-timestamp': String(ts), 'webhook-signature': `v1,${signature}` }, body }).then(async (res) => ({ status: res.status, json: (await res.json()) as { invocationId: string } }));
    const [one, two] = await Promise.all([deliver(a), deliver(b)]);
    t.ok([one.status, two.status].every((status) => status === 200 || status === 202), `round ${round}: both accepted (${one.status}, ${two.status})`);
    t.equal(one.json.invocationId, two.json.invocationId, `round ${round}: one invocation for the delivery, through either node`);
  }
  const runs = (await send(b.url, 'GET', '/v1/invocations?function=tick&limit=500')).json.invocations as unknown[];
  t.equal(runs.length, 10, 'ten deliveries, ten invocations');
});
