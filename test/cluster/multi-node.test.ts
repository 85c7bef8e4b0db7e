// Three Wisp processes on one Redis: any node serves any request. A function deployed on one is
// invoked on the others; an instance created through one is called, suspended, resumed and
// deleted through the others (forwarded to its owner); get-or-create by name through three
// nodes at once makes one instance; CALL_CYCLE is found across nodes; internal routes refuse
// requests not signed with the cluster secret.
import t from 'tap';
import { readFileSync } from 'node:fs';
import { startCluster, until } from '../helpers/cluster.js';
import { send } from '../helpers/process.js';

const PEERS = readFileSync(new URL('../fixtures/peers.ts', import.meta.url), 'utf8');
const COUNTER = `export class Counter {
  count = 0;
  add(k: number) { this.count += k; return this.count; }
}`;

t.test('deploy on one node, invoke on the others; an instance made through one is used through all', async (t) => {
  const cluster = await startCluster(t, 3);
  if (!cluster) return;
  const [a, b, c] = cluster.nodes as [typeof cluster.nodes[0], typeof cluster.nodes[0], typeof cluster.nodes[0]];
  t.equal((await send(a.url, 'PUT', '/v1/functions/hello', 'export default (i: { name: string }) => `hi ${i.name}`;')).status, 201);
  t.equal((await send(b.url, 'POST', '/v1/functions/hello/invoke', { name: 'B' })).json, 'hi B');
  t.equal((await send(c.url, 'POST', '/v1/functions/hello/invoke', { name: 'C' })).json, 'hi C');

  t.equal((await send(a.url, 'PUT', '/v1/functions/counter', COUNTER)).status, 201);
  const created = await send(b.url, 'POST', '/v1/functions/counter/instances', {});
  t.equal(created.status, 201);
  t.equal(created.json.node, b.id, 'placed on the node asked, which has room');
  const id = created.json.id as string;
  const path = `/v1/instances/${id}`;
  const res = await fetch(`${c.url}${path}/methods/add`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '[2]' });
  t.equal(await res.json(), 2, 'called through another node');
  t.equal(res.headers.get('wisp-instance-node'), b.id, 'answered by its owner');
  t.equal((await send(a.url, 'POST', `${path}/methods/add`, [3])).json, 5, 'one instance, one state, whichever node is asked');
  t.equal((await send(c.url, 'GET', path)).json.node, b.id, 'the record names its node on every node');
  t.equal((await send(a.url, 'GET', '/v1/instances')).json.instances.length, 1, 'every node lists it');
  t.equal((await send(c.url, 'POST', `${path}/suspend`)).json.status, 'suspended', 'suspended through another node');
  t.equal((await send(a.url, 'POST', `${path}/methods/add`, [1])).json.code, 'INSTANCE_SUSPENDED');
  t.equal((await send(a.url, 'POST', `${path}/resume`)).json.status, 'running');
  t.equal((await send(c.url, 'POST', `${path}/methods/add`, [1])).json, 6, 'resumed with its state');
  t.equal((await send(c.url, 'DELETE', path)).status, 204);
  t.equal((await send(a.url, 'GET', path)).json.code, 'INSTANCE_NOT_FOUND', 'deleted everywhere');
});

t.test('get-or-create by name through three nodes at once makes one instance', async (t) => {
  const cluster = await startCluster(t, 3);
  if (!cluster) return;
  const [a] = cluster.nodes;
  t.equal((await send(a!.url, 'PUT', '/v1/functions/counter', COUNTER)).status, 201);
  for (let round = 0; round < 5; round++) {
    const answers = await Promise.all(cluster.nodes.map((node) => send(node.url, 'POST', '/v1/functions/counter/instances', { name: `room-${round}` })));
    t.same(answers.map((answer) => answer.status).sort(), [200, 200, 201], `round ${round}: one created, two found it`);
    t.equal(new Set(answers.map((answer) => answer.json.id)).size, 1, 'all three name the same instance');
  }
  t.equal((await send(a!.url, 'GET', '/v1/instances')).json.instances.length, 5, 'and no other was left behind');
});

t.test('calls between instances on different nodes carry the call chain: a cycle is CALL_CYCLE', async (t) => {
  const cluster = await startCluster(t, 2);
  if (!cluster) return;
  const [a, b] = cluster.nodes as [typeof cluster.nodes[0], typeof cluster.nodes[0]];
  t.equal((await send(a.url, 'PUT', '/v1/functions/peers', PEERS)).status, 201);
  const x = await send(a.url, 'POST', '/v1/functions/peers/instances', { args: ['x'] });
  const y = await send(b.url, 'POST', '/v1/functions/peers/instances', { args: ['y'] });
  t.same([x.json.node, y.json.node], [a.id, b.id], 'one instance on each node');
  t.equal((await send(a.url, 'POST', `/v1/instances/${x.json.id}/methods/callPeer`, [y.json.id, 'hello'])).json, 'hello from y', 'ctx.instance().call reaches the other node');
  // x.ping → y.pong (on the other node) → x.hello: x waits on y, so the last call could never start.
  const cycle = await send(b.url, 'POST', `/v1/instances/${x.json.id}/methods/ping`, [y.json.id]);
  t.equal(cycle.json.code, 'METHOD_ERROR', "y's method failed with the cycle its call ran into");
  t.match(cycle.json.detail, `instance ${x.json.id} is already waiting in this call chain (${x.json.id} → ${y.json.id} → ${x.json.id})`, 'found across nodes, not a hang');
  t.equal((await send(b.url, 'POST', `/v1/instances/${y.json.id}/methods/catchCode`, [x.json.id, 'hello'])).json, 'hello from x', 'without a cycle, y calls x back across nodes');
  const fromFunction = await send(a.url, 'POST', '/v1/functions/peers/invoke', { id: y.json.id, method: 'hello' });
  t.same(fromFunction.json, { value: 'hello from y' }, 'a stateless function calls an instance on another node');
});

t.test("placement spreads what does not fit on the node asked; what fits nowhere names each node's shortfall", async (t) => {
  const cluster = await startCluster(t, 2, { config: { node: { cpu: 4000, memory: 1000, custom: {} } } });
  if (!cluster) return;
  const [a, b] = cluster.nodes as [typeof cluster.nodes[0], typeof cluster.nodes[0]];
  t.equal((await send(a.url, 'PUT', '/v1/functions/counter', COUNTER)).status, 201);
  const first = await send(a.url, 'POST', '/v1/functions/counter/instances', { resources: { cpu: 100, memory: 700 } });
  t.equal(first.json.node, a.id, 'the first goes where it was asked');
  // a's allocation reaches b's view with a's next heartbeat.
  await until(async () => ((await send(b.url, 'GET', '/v1/cluster')).json.nodes as { id: string; allocated: { memory: number } }[]).find((n) => n.id === a.id)!.allocated.memory === 700);
  const second = await send(a.url, 'POST', '/v1/functions/counter/instances', { resources: { cpu: 100, memory: 700 } });
  t.equal(second.status, 201);
  t.equal(second.json.node, b.id, 'a has no room left: the second goes to b');
  const third = await send(b.url, 'POST', '/v1/functions/counter/instances', { resources: { cpu: 100, memory: 700 } });
  t.equal(third.status, 503);
  t.equal(third.json.code, 'INSUFFICIENT_RESOURCES');
  t.match(third.json.detail, `node ${a.id}: memory: asked 700 MiB, 300 of 1000 free (short by 400)`);
  t.match(third.json.detail, `node ${b.id}: memory: asked 700 MiB, 300 of 1000 free (short by 400)`);
  t.same(third.json.shortfall, { memory: 400 }, "the asked node's shortfall, as a node alone says it");
});

t.test('an internal route without the cluster signature is 401 CLUSTER_AUTH_FAILED', async (t) => {
  const cluster = await startCluster(t, 1);
  if (!cluster) return;
  const url = `${cluster.nodes[0]!.url}/internal/v1/instance-ops`;
  const body = JSON.stringify({ op: 'delete', id: 'ins_00000000000000000000', epoch: 1 });
  const unsigned = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/vnd.wisp.internal+json' }, body });
  t.equal(unsigned.status, 401);
  t.equal(((await unsigned.json()) as { code: string }).code, 'CLUSTER_AUTH_FAILED');
  const forged = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/vnd.wisp.internal+json', 'x-wisp-cluster-time': String(Date.now()), 'x-wisp-cluster-signature': 'not-the-signature' },
    body,
  });
  t.equal(forged.status, 401, 'nor with a signature made without the secret');
});
