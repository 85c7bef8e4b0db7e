// What the queue benchmarks share: waiting for the queue to drain, timing a batch from its
// first submission to its last completion, counting finished calls, and a queued record.
import { api } from './lib.mjs';

export const batch = Number(process.env.BENCH_ASYNC_BATCH ?? 5000);

/** Resolves once nothing is queued, running or retrying. */
export async function drained(base) {
  for (;;) {
    const queued = await api(base, 'GET', '/v1/invocations?status=queued&limit=1');
    const running = await api(base, 'GET', '/v1/invocations?status=running&limit=1');
    const retrying = await api(base, 'GET', '/v1/invocations?status=retrying&limit=1');
    if (queued.invocations.length + running.invocations.length + retrying.invocations.length === 0) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/**
 * Asynchronous invocations Wisp has finished so far, from its wisp_calls_total (mode async):
 * all of them, or those whose series also carries each of `labels` (e.g. { outcome: 'ok' }).
 */
export async function asyncFinished(base, labels = {}) {
  const wanted = ['mode="async"', ...Object.entries(labels).map(([name, value]) => `${name}="${value}"`)];
  const text = await (await fetch(`${base}/metrics`)).text();
  let total = 0;
  for (const line of text.split('\n')) {
    if (line.startsWith('wisp_calls_total{') && wanted.every((label) => line.includes(label))) total += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return total;
}

/** Submits `n` invocations of hello over HTTP from 50 submitters, like the wrk runs. */
export async function submitMany(base, n) {
  let next = 0;
  await Promise.all(
    Array.from({ length: 50 }, async () => {
      while (next < n) {
        next++;
        await api(base, 'POST', '/v1/functions/hello/invocations', { name: 'bench' });
      }
    }),
  );
}

/** Submits `size` invocations from 50 submitters; completions per second, first submission to last completion. */
export async function completeBatch(base, size) {
  const started = performance.now();
  const ids = [];
  // 50 submitters, like the wrk runs.
  let next = 0;
  await Promise.all(
    Array.from({ length: 50 }, async () => {
      while (next < size) {
        next++;
        ids.push((await api(base, 'POST', '/v1/functions/hello/invocations', { name: 'bench' })).id);
      }
    }),
  );
  await drained(base);
  const seconds = (performance.now() - started) / 1000;
  const failed = await api(base, 'GET', '/v1/invocations?status=failed&limit=1');
  if (failed.invocations.length) throw new Error(`an invocation failed: ${JSON.stringify(failed.invocations[0])}`);
  return ids.length / seconds;
}

/** A queued invocation of hello as the store keeps it, for the benches that drive the store directly. */
export function queuedRecord(id) {
  const now = Date.now();
  return { id, function: 'hello', version: 1, mode: 'async', status: 'queued', input: { name: 'bench' }, runAt: now, createdAt: now, startedAt: null, finishedAt: null, parentId: null, idempotencyKey: null, attempts: 0, maxAttempts: 3, maxAgeMs: 86_400_000, callbackUrl: null, callback: null, instance: null, method: null, result: null, error: null, triggerId: null, cancelRequested: false };
}
