// Failover on a real cluster of Wisp processes: SIGKILL of an instance's owner while calls flow
// brings the instance back on a live node, with the same id and its checkpointed state; a
// SIGSTOP of the owner past its lease hands the instance over, and once the paused node runs
// again it fences itself: no successful reply of the old owner comes after the new one's first.
import t from 'tap';
import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { startCluster, until, type ClusterNodeProcess } from '../helpers/cluster.js';
import { send } from '../helpers/process.js';

const COUNTER = `export const config = { timeoutMs: 2000 };
export class Counter {
  count = 0;
  add(k: number) { this.count += k; return this.count; }
  get() { return this.count; }
}`;

/** The failover bound of design §5.7: an instance is callable elsewhere within 10 s of its node's death. */
const FAILOVER_BOUND_MS = 10_000;

interface Reply {
  status: number;
  value: unknown;
  node: string | null;
  epoch: number | null;
  /** When the reply reached the client, on its monotonic clock. */
  at: number;
  via: string;
}

async function callAdd(node: ClusterNodeProcess, id: string): Promise<Reply> {
  try {
    const res = await fetch(`${node.url}/v1/instances/${id}/methods/add`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '[1]', signal: AbortSignal.timeout(15_000) });
    const epoch = res.headers.get('wisp-instance-epoch');
    return { status: res.status, value: await res.json(), node: res.headers.get('wisp-instance-node'), epoch: epoch === null ? null : Number(epoch), at: performance.now(), via: node.id };
  } catch (err) {
    return { status: 0, value: String(err), node: null, epoch: null, at: performance.now(), via: node.id };
  }
}

/** Calls in a loop through `node` until `stop` is set. */
function callLoop(node: ClusterNodeProcess, id: string, replies: Reply[], stop: { done: boolean }): Promise<void> {
  return (async () => {
    while (!stop.done) replies.push(await callAdd(node, id));
  })();
}

t.test('SIGKILL of the owner while calls flow: the instance is back on a live node within the bound, with every answered call', async (t) => {
  const cluster = await startCluster(t, 3);
  if (!cluster) return;
  const [a, b] = cluster.nodes as [ClusterNodeProcess, ClusterNodeProcess];
  t.equal((await send(a.url, 'PUT', '/v1/functions/counter', COUNTER)).status, 201);
  const created = await send(a.url, 'POST', '/v1/functions/counter/instances', { checkpoint: 'every-call' });
  t.equal(created.json.node, a.id);
  const id = created.json.id as string;
  const replies: Reply[] = [];
  const stop = { done: false };
  const loop = callLoop(b, id, replies, stop);
  await until(async () => replies.filter((r) => r.status === 200).length >= 10);
  a.process.child.kill('SIGKILL');
  const killedAt = performance.now();
  // The first answer from elsewhere: one from a that arrives after the kill left a before it (in flight).
  const back = await until(async () => replies.find((r) => r.at > killedAt && r.status === 200 && r.node !== a.id));
  stop.done = true;
  await loop;
  const failoverMs = back.at - killedAt;
  t.comment(`callable again ${Math.round(failoverMs)} ms after the SIGKILL, on ${back.node}`);
  t.ok(failoverMs < FAILOVER_BOUND_MS, `within ${FAILOVER_BOUND_MS} ms`);
  t.not(back.node, a.id, 'on another node');
  t.ok(back.epoch! > created.json.epoch, 'with a newer epoch');
  const acked = replies.filter((r) => r.status === 200).length;
  const sent = replies.length;
  const record = await send(b.url, 'GET', `/v1/instances/${id}`);
  t.equal(record.json.status, 'running');
  t.equal(record.json.node, back.node, 'the directory names the new owner');
  const now = (await send(b.url, 'POST', `/v1/instances/${id}/methods/get`, [])).json as number;
  t.ok(now >= acked && now <= sent, `every answered call is in the state (${acked} answered, ${sent} sent, count ${now})`);
  const failures = replies.filter((r) => r.status !== 200);
  const codes = new Set(failures.map((r) => `${r.status} ${(r.value as { code?: string }).code}`));
  t.ok(failures.every((r) => r.status === 503), `calls during the failover are 503s (${[...codes].join(', ')})`);
});

t.test('a SIGSTOPped owner fences itself when it runs again: no reply of the old owner after the new one answered', async (t) => {
  const cluster = await startCluster(t, 3);
  if (!cluster) return;
  const [a, , c] = cluster.nodes as [ClusterNodeProcess, ClusterNodeProcess, ClusterNodeProcess];
  t.equal((await send(a.url, 'PUT', '/v1/functions/counter', COUNTER)).status, 201);
  const created = await send(a.url, 'POST', '/v1/functions/counter/instances', {});
  const id = created.json.id as string;
  const before = (await send(a.url, 'GET', '/v1/cluster')).json.nodes.find((n: { id: string }) => n.id === a.id).incarnation as number;
  const replies: Reply[] = [];
  const stop = { done: false };
  const loops = [callLoop(a, id, replies, stop), callLoop(c, id, replies, stop)];
  await until(async () => replies.filter((r) => r.status === 200 && r.via === a.id).length >= 5 && replies.filter((r) => r.status === 200 && r.via === c.id).length >= 5);
  a.process.child.kill('SIGSTOP');
  const newOwner = await until(async () => replies.find((r) => r.status === 200 && r.epoch !== null && r.epoch > created.json.epoch));
  t.not(newOwner.node, a.id, 'another node took the instance over while the owner was stopped');
  a.process.child.kill('SIGCONT');
  // It runs again: it must notice it lost its lease, and rejoin as a new incarnation.
  await until(async () => {
    const nodes = (await send(c.url, 'GET', '/v1/cluster')).json.nodes as { id: string; incarnation: number; state: string }[];
    const now = nodes.find((n) => n.id === a.id)!;
    return now.state === 'active' && now.incarnation > before;
  });
  const resumedAt = performance.now();
  await until(async () => replies.filter((r) => r.at > resumedAt && r.via === a.id && r.status === 200).length >= 5);
  stop.done = true;
  await Promise.all(loops);

  const oldEpoch = created.json.epoch as number;
  const oldAnswers = replies.filter((r) => r.status === 200 && r.epoch === oldEpoch);
  const lastOld = Math.max(...oldAnswers.map((r) => r.at));
  t.ok(lastOld < newOwner.at, 'every success of the old owner came before the first of the new');
  t.ok(
    replies.filter((r) => r.status === 200 && r.at > newOwner.at).every((r) => r.node === newOwner.node && r.epoch === newOwner.epoch),
    'after the takeover only the new owner answers, through either node',
  );
  t.ok(replies.filter((r) => r.via === a.id && r.at > resumedAt && r.status === 200).every((r) => r.node === newOwner.node), 'the old owner forwards to the new one once it rejoined');
  for (const epoch of new Set(replies.filter((r) => r.status === 200).map((r) => r.epoch))) {
    const counts = replies.filter((r) => r.status === 200 && r.epoch === epoch).map((r) => r.value as number);
    t.equal(new Set(counts).size, counts.length, `epoch ${epoch}: one copy of the state answered (no count given twice)`);
  }
});

t.test('a Redis restart loses nothing acknowledged: the cluster comes back with its functions, instances and their state', async (t) => {
  const cluster = await startCluster(t, 2);
  if (!cluster) return;
  const [a, b] = cluster.nodes as [ClusterNodeProcess, ClusterNodeProcess];
  t.equal((await send(a.url, 'PUT', '/v1/functions/counter', COUNTER)).status, 201);
  const created = await send(a.url, 'POST', '/v1/functions/counter/instances', { checkpoint: 'every-call' });
  const id = created.json.id as string;
  for (let i = 1; i <= 3; i++) t.equal((await send(b.url, 'POST', `/v1/instances/${id}/methods/add`, [1])).json, i);
  await cluster.redis.restart();
  // Nodes that could not renew in the meantime fence themselves and rejoin: calls answer again.
  const next = await until(async () => {
    const reply = await callAdd(b, id);
    return reply.status === 200 ? reply : undefined;
  });
  t.equal(next.value, 4, 'every answered call survived the restart (appendfsync always)');
  t.equal((await send(b.url, 'GET', '/v1/functions')).json.functions.length, 1, 'so did the function');
  const nodes = (await send(a.url, 'GET', '/v1/cluster')).json.nodes as { state: string }[];
  t.same(nodes.map((n) => n.state), ['active', 'active'], 'both nodes are members again');
});

t.test('a call sent to an owner that dies before answering is 503 INSTANCE_UNAVAILABLE, and is not run again elsewhere', async (t) => {
  const cluster = await startCluster(t, 3);
  if (!cluster) return;
  const [a, b] = cluster.nodes as [ClusterNodeProcess, ClusterNodeProcess];
  // slowAdd tells the test it has started (a request to the test's server), then takes 1.5 s.
  const SLOW = COUNTER.replace('get() {', 'async slowAdd(k: number, started: string) { await fetch(started); await new Promise((r) => setTimeout(r, 1500)); this.count += k; return this.count; }\n  get() {');
  let markStarted: () => void = () => undefined;
  const started = new Promise<void>((resolve) => (markStarted = resolve));
  const server = createServer((_req, res) => {
    markStarted();
    res.end('ok');
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.teardown(() => void server.close());
  const startedUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/started`;
  t.equal((await send(a.url, 'PUT', '/v1/functions/counter', SLOW)).status, 201);
  const created = await send(a.url, 'POST', '/v1/functions/counter/instances', { checkpoint: 'every-call' });
  const id = created.json.id as string;
  t.equal((await send(b.url, 'POST', `/v1/instances/${id}/methods/add`, [1])).json, 1);
  const inFlight = send(b.url, 'POST', `/v1/instances/${id}/methods/slowAdd`, [100, startedUrl]);
  await started;
  a.process.child.kill('SIGKILL');
  const lost = await inFlight;
  t.equal(lost.status, 503);
  t.equal(lost.json.code, 'INSTANCE_UNAVAILABLE');
  t.equal(lost.json.sent, true, 'it says the call was sent');
  t.match(lost.json.detail, /may have run, so it is not sent again/);
  const back = await until(async () => {
    const reply = await callAdd(b, id);
    return reply.status === 200 ? reply : undefined;
  });
  t.equal(back.value, 2, 'the new owner has the state of the answered calls only: the unanswered one was not run again');
});

t.test('an owner refuses an operation for an epoch it does not hold with NOT_OWNER', async (t) => {
  const cluster = await startCluster(t, 1);
  if (!cluster) return;
  const [a] = cluster.nodes as [ClusterNodeProcess];
  t.equal((await send(a.url, 'PUT', '/v1/functions/counter', COUNTER)).status, 201);
  const created = await send(a.url, 'POST', '/v1/functions/counter/instances', {});
  const { createRedisStores } = await import('../../dist/store/redis-backend.js');
  const { signRequest } = await import('../../dist/cluster/internal-auth.js');
  const { tempDir } = await import('../helpers/temp-dir.js');
  const stores = await createRedisStores(cluster.redis.url, cluster.prefix, tempDir(), () => undefined);
  t.teardown(() => stores.close());
  const secret = await stores.cluster!.membership.sharedSecret('internal', 'never-used-secret-xxxxxxxx');
  const path = '/internal/v1/instance-ops';
  const body = Buffer.from(JSON.stringify({ op: 'call', id: created.json.id, epoch: created.json.epoch + 1, method: 'add', args: [1], chain: [], attempt: 1 }));
  const res = await fetch(`${a.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/vnd.wisp.internal+json', ...signRequest(secret, 'POST', path, body) }, body });
  t.equal(res.status, 200, 'a signed request is accepted');
  const answer = (await res.json()) as { ok: boolean; error?: { code: string } };
  t.same([answer.ok, answer.error?.code], [false, 'NOT_OWNER'], 'and refused for an epoch the node does not hold');
  t.equal((await send(a.url, 'POST', `/v1/instances/${created.json.id}/methods/add`, [1])).json, 1, 'the call was not run');
});
