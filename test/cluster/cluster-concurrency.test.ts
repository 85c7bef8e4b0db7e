// A function's concurrency limit holds across the cluster, not per node: with a limit of 2 and
// three nodes, a third synchronous call through a third node is refused, and asynchronous
// invocations submitted through every node never run more than 2 at once. A node killed while
// holding slots frees them once their leases run out.
import t from 'tap';
import { createServer, type ServerResponse } from 'node:http';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import type { Test } from 'tap';
import { startCluster, until, type ClusterNodeProcess } from '../helpers/cluster.js';
import { send } from '../helpers/process.js';

interface Holder {
  url: string;
  /** The requests held now, oldest first. */
  held: ServerResponse[];
  /** The most it held at once. */
  most(): number;
  /** Resolves at the next request held. */
  nextArrival(): Promise<void>;
  /** From now on, answers at once (and lets every held request go). */
  open(): void;
}

async function holdingServer(t: Test): Promise<Holder> {
  const held: ServerResponse[] = [];
  let most = 0;
  let isOpen = false;
  const arrivals: (() => void)[] = [];
  const server = createServer((_req, res) => {
    if (isOpen) return void res.end('ok');
    held.push(res);
    for (const arrived of arrivals.splice(0)) arrived();
    most = Math.max(most, held.length);
    res.on('close', () => {
      const at = held.indexOf(res);
      if (at >= 0) held.splice(at, 1);
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.teardown(() => {
    server.closeAllConnections();
    server.close();
  });
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`,
    held,
    most: () => most,
    nextArrival: () => new Promise((resolve) => arrivals.push(resolve)),
    open: () => {
      isOpen = true;
      for (const res of held.splice(0)) res.end('ok');
    },
  };
}

const capped = (url: string) => `export const config = { concurrency: 2, timeoutMs: 60000, retries: 0 };
export default async () => (await fetch(${JSON.stringify(url)})).text();`;

t.test('synchronous calls through three nodes share one limit; a killed holder frees its slots', async (t) => {
  const cluster = await startCluster(t, 3);
  if (!cluster) return;
  const gate = await holdingServer(t);
  const [a, b, c] = cluster.nodes as [ClusterNodeProcess, ClusterNodeProcess, ClusterNodeProcess];
  t.equal((await send(a.url, 'PUT', '/v1/functions/capped', capped(gate.url))).status, 201);
  const first = send(a.url, 'POST', '/v1/functions/capped/invoke');
  const second = send(b.url, 'POST', '/v1/functions/capped/invoke');
  await until(async () => gate.held.length === 2);
  const third = await send(c.url, 'POST', '/v1/functions/capped/invoke');
  t.equal(third.status, 429, `the third call, through ${c.id}, is refused while ${a.id} and ${b.id} hold both slots`);
  t.equal(third.json.code, 'CONCURRENCY_LIMIT');

  // A dies holding a slot: it is free again once its lease runs out, not never.
  a.process.child.kill('SIGKILL');
  first.catch(() => undefined);
  // The killed node's request goes from the gate when its connection closes.
  await until(async () => gate.held.length === 1);
  gate.held.shift()!.end('ok');
  t.equal((await second).status, 200, `the call through ${b.id} ends`);
  await until(async () => gate.held.length === 0);
  const viaB = send(b.url, 'POST', '/v1/functions/capped/invoke');
  await gate.nextArrival();
  // The second slot is the one the dead node held: refused until its lease runs out.
  // (Wrapped: a promise returned from until() would be awaited with it.)
  const { call: viaC } = await until(async () => {
    const call = send(c.url, 'POST', '/v1/functions/capped/invoke');
    const outcome = await Promise.race([call.then((res) => res.status), gate.nextArrival().then(() => 'held' as const)]);
    return outcome === 'held' ? { call } : undefined;
  }, 100);
  t.equal(gate.held.length, 2, `both slots are held again, one through ${c.id}: the slot of the killed ${a.id} came back`);
  gate.open();
  t.equal((await viaB).status, 200);
  t.equal((await viaC).status, 200);
});

t.test('asynchronous invocations submitted through every node never run more than the limit at once', async (t) => {
  const cluster = await startCluster(t, 3);
  if (!cluster) return;
  const gate = await holdingServer(t);
  const nodes = cluster.nodes;
  t.equal((await send(nodes[0]!.url, 'PUT', '/v1/functions/capped', capped(gate.url))).status, 201);
  const total = 9;
  const ids: string[] = [];
  for (let i = 0; i < total; i++) {
    const res = await send(nodes[i % 3]!.url, 'POST', '/v1/functions/capped/invocations', i);
    t.equal(res.status, 202);
    ids.push(res.json.id as string);
  }
  // Each node alone would run 2: six at once. The cluster runs 2, then one more as each ends.
  for (let released = 0; released < total; released++) {
    await until(async () => gate.held.length >= Math.min(2, total - released));
    gate.held.shift()!.end('ok');
  }
  for (const id of ids) {
    t.equal((await send(nodes[1]!.url, 'GET', `/v1/invocations/${id}?wait=30`)).json.status, 'succeeded');
  }
  t.equal(gate.most(), 2, 'never more than 2 ran at once across the three nodes');
  const attempts = await Promise.all(ids.map(async (id) => (await send(nodes[2]!.url, 'GET', `/v1/invocations/${id}`)).json.attempts as number));
  t.same(attempts, ids.map(() => 1), 'waiting for a slot spent no attempt');
});
