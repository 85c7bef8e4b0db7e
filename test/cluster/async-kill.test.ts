// The cluster's asynchronous queue through a node's death: 2,000 invocations submitted through
// three nodes while one of them is SIGKILLed and started again. Every acknowledged invocation
// reaches exactly one final record, succeeded, with no retry spent by the kill (the function
// allows none); attempts cut off by the kill run again elsewhere once their lease runs out. Runs
// are at least once: how many ran twice is counted and reported, not forbidden.
import t from 'tap';
import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { startCluster, until, type ClusterNodeProcess } from '../helpers/cluster.js';
import { send } from '../helpers/process.js';

const TOTAL = 2000;

t.test('2,000 invocations through three nodes, one SIGKILLed and restarted: each acknowledged one ends once, succeeded', async (t) => {
  const runs = new Map<string, number>();
  const counter = createServer((req, res) => {
    const id = new URL(req.url!, 'http://x').searchParams.get('id')!;
    runs.set(id, (runs.get(id) ?? 0) + 1);
    res.end('ok');
  });
  counter.listen(0, '127.0.0.1');
  await once(counter, 'listening');
  t.teardown(() => void counter.close());
  const counted = `http://127.0.0.1:${(counter.address() as AddressInfo).port}/run`;
  const cluster = await startCluster(t, 3, { config: { invocations: { leaseMs: 1000 } } });
  if (!cluster) return;
  const nodes = cluster.nodes;
  const WORK = `export const config = { retries: 0, timeoutMs: 10000, concurrency: 1000 };
export default async (input: { n: number }, ctx: { invocationId: string }) => {
  await fetch(${JSON.stringify(counted)} + '?id=' + ctx.invocationId);
  await new Promise((r) => setTimeout(r, 5));
  return input.n;
};`;
  t.equal((await send(nodes[0]!.url, 'PUT', '/v1/functions/work', WORK)).status, 201);

  const acknowledged: string[] = [];
  let next = 0;
  let killed = false;
  let resent = 0;
  /** Submits input n, as a client would: with an idempotency key, sent again through the next node until acknowledged. */
  const submit = async (n: number, lane: number): Promise<string> => {
    for (let attempt = 0; ; attempt++) {
      const node = nodes[(n + lane + attempt) % nodes.length]!;
      try {
        const res = await fetch(`${node.url}/v1/functions/work/invocations`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'idempotency-key': `work-${n}` },
          body: JSON.stringify({ n }),
          signal: AbortSignal.timeout(10_000),
        });
        if (res.status === 202 || res.status === 200) return ((await res.json()) as { id: string }).id;
      } catch {
        // That node died under this submission (it may or may not have stored it): the key makes sending it again safe.
      }
      resent++;
    }
  };
  const submitter = async (lane: number) => {
    while (next < TOTAL) {
      const n = next++;
      acknowledged.push(await submit(n, lane));
      if (!killed && acknowledged.length >= TOTAL / 4) {
        killed = true;
        nodes[2]!.process.child.kill('SIGKILL');
        void nodes[2]!.process.exited.then(() => cluster.restart(2));
      }
    }
  };
  await Promise.all(Array.from({ length: 16 }, (_, lane) => submitter(lane)));
  t.equal(new Set(acknowledged).size, TOTAL, `all ${TOTAL} acknowledged, once each (${resent} sent again through another node after the kill)`);

  const finals = new Map<string, { status: string; attempts: number }>();
  await until(async () => {
    for (const id of acknowledged) {
      if (finals.has(id)) continue;
      const { json } = await send(nodes[0]!.url, 'GET', `/v1/invocations/${id}`);
      if (json.status === 'succeeded' || json.status === 'failed' || json.status === 'cancelled') finals.set(id, json);
    }
    return finals.size === acknowledged.length;
  }, 200);
  const statuses = [...finals.values()].reduce<Record<string, number>>((out, r) => ({ ...out, [r.status]: (out[r.status] ?? 0) + 1 }), {});
  t.same(statuses, { succeeded: acknowledged.length }, 'every acknowledged invocation succeeded: none lost, none failed by the kill');
  const unrun = acknowledged.filter((id) => !runs.has(id));
  t.same(unrun, [], 'each ran');
  const twice = [...runs.values()].filter((count) => count > 1).length;
  t.comment(`${twice} of ${acknowledged.length} ran more than once (cut off by the kill, then run again)`);
  t.ok(twice <= 200, 'only attempts the kill cut off ran again');
});
