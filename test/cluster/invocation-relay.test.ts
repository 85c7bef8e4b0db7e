// Asynchronous invocations seen from any node of a cluster: a long-poll through a node that does
// not run the attempt ends when the attempt does, and a cancel through such a node stops the
// attempt where it runs. Which node runs an attempt is read from its lease in Redis.
import t from 'tap';
import { Redis } from 'ioredis';
import { startCluster, until, type ClusterNodeProcess } from '../helpers/cluster.js';
import { send } from '../helpers/process.js';

const SLOW = `export const config = { timeoutMs: 60000, retries: 0 };
export default async function slow(input: { ms: number }, ctx: { signal: AbortSignal }) {
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(resolve, input.ms);
    ctx.signal.addEventListener('abort', () => { clearTimeout(timer); reject(ctx.signal.reason); });
  });
  return 'done';
}`;

/** The node whose lease the running attempt of `id` holds. */
async function runner(redis: Redis, prefix: string, id: string, nodes: ClusterNodeProcess[]): Promise<ClusterNodeProcess> {
  const owner = await until(async () => (await redis.hget(`${prefix}invocations:inv:${id}`, 'owner')) ?? undefined);
  return nodes.find((node) => owner.startsWith(`${node.id}/`))!;
}

t.test('a long-poll and a cancel through the node that does not run the attempt', async (t) => {
  const cluster = await startCluster(t, 2);
  if (!cluster) return;
  const redis = new Redis(cluster.redis.url);
  t.teardown(() => redis.quit());
  const [a] = cluster.nodes as [ClusterNodeProcess];
  t.equal((await send(a.url, 'PUT', '/v1/functions/slow', SLOW)).status, 201);

  const quick = (await send(a.url, 'POST', '/v1/functions/slow/invocations', { ms: 3000 })).json.id as string;
  const ran = await runner(redis, cluster.prefix, quick, cluster.nodes);
  const other = cluster.nodes.find((node) => node !== ran)!;
  // The event stream through the other node: it shows the attempt running, and ends with its
  // final state, which only a relay from the running node can tell it (or it would hang).
  const stream = await fetch(`${other.url}/v1/invocations/${quick}/events`, { signal: AbortSignal.timeout(60_000) });
  const events = [...(await stream.text()).matchAll(/^event: (\w+)$/gm)].map((m) => m[1]);
  t.same(events.slice(-1), ['succeeded'], `the stream through ${other.id} ended with the attempt on ${ran.id}`);
  t.ok(events.includes('running'), 'and showed it running first');

  const long = (await send(a.url, 'POST', '/v1/functions/slow/invocations', { ms: 50_000 })).json.id as string;
  const running = await runner(redis, cluster.prefix, long, cluster.nodes);
  await until(async () => (await send(running.url, 'GET', `/v1/invocations/${long}`)).json.status === 'running');
  const elsewhere = cluster.nodes.find((node) => node !== running)!;
  const cancelled = await send(elsewhere.url, 'DELETE', `/v1/invocations/${long}`);
  t.equal(cancelled.status, 204, `cancelled through ${elsewhere.id}`);
  const final = await send(elsewhere.url, 'GET', `/v1/invocations/${long}?wait=30`);
  t.equal(final.json.status, 'cancelled', `the attempt on ${running.id} stopped, well before its 50 s`);
  t.equal(final.json.error.code, 'INVOCATION_CANCELLED');
});
