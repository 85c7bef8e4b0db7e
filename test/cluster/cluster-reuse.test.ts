// Concurrency control across a cluster: the key an asynchronous invocation holds is in the
// shared store, so identical submissions through every node at once store one invocation, and
// with `reject` a node refuses a call another node's submission holds.
import t from 'tap';
import { startCluster, until } from '../helpers/cluster.js';
import { startGate } from '../helpers/gate.js';
import { send } from '../helpers/process.js';

const held = (control: string) => `export const config = { concurrencyControl: ${control}, retries: 0 };
export default async (input: { gate: string }) => { await fetch(input.gate); return 'done'; };`;

t.test('identical submissions through three nodes at once store one invocation; reject holds across nodes', async (t) => {
  const cluster = await startCluster(t, 3);
  if (!cluster) return;
  const gate = await startGate(t);
  const [a, b, c] = cluster.nodes;
  t.equal((await send(a!.url, 'PUT', '/v1/functions/shared', held("{ mode: 'reuse' }"))).status, 201);
  const input = { gate: gate.url };
  const answers = await Promise.all(Array.from({ length: 30 }, (_, i) => send(cluster.nodes[i % 3]!.url, 'POST', '/v1/functions/shared/invocations', input)));
  t.equal(answers.filter((res) => res.status === 202).length, 1, 'one stored');
  t.equal(answers.filter((res) => res.status === 200).length, 29, 'the rest reused it');
  const id = answers.find((res) => res.status === 202)!.json.id;
  t.ok(answers.every((res) => res.json.id === id), 'every node answered with its id');
  await gate.arrived(1);
  gate.open();
  await until(async () => (await send(b!.url, 'GET', `/v1/invocations/${id}`)).json.status === 'succeeded');
  t.equal(gate.received(), 1, 'it ran once');

  t.equal((await send(a!.url, 'PUT', '/v1/functions/single', held("{ key: 'function', mode: 'reject' }"))).status, 201);
  const second = await startGate(t);
  const first = await send(b!.url, 'POST', '/v1/functions/single/invocations', { gate: second.url });
  t.equal(first.status, 202);
  const refused = await send(c!.url, 'POST', '/v1/functions/single/invocations', { gate: second.url });
  t.equal(refused.status, 409);
  t.same([refused.json.code, refused.json.invocationId], ['INVOCATION_PENDING', first.json.id], 'another node refuses it, naming the first');
  second.open();
});
