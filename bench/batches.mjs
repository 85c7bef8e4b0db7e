#!/usr/bin/env node
// npm run bench:batches: acknowledging 10,000 inputs as one batch against 10,000 single
// asynchronous submissions (50 at a time, keep-alive), side by side on one Wisp in each round;
// then how fast the batch's members complete for a trivial function (submit to all final).
// BENCH_BATCH_SIZE (10000) and BENCH_ROUNDS (3). With WISP_REDIS_URL set, on the Redis backend.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { api, median, root, rounds, start } from './lib.mjs';

const size = Number(process.env.BENCH_BATCH_SIZE ?? 10_000);
const CLIENTS = 50;

async function singles(base, fn) {
  let next = 0;
  const began = performance.now();
  await Promise.all(
    Array.from({ length: CLIENTS }, async () => {
      while (next < size) {
        const input = next++;
        await api(base, 'POST', `/v1/functions/${fn}/invocations`, { n: input });
      }
    }),
  );
  return performance.now() - began;
}

async function batch(base, fn) {
  const inputs = Array.from({ length: size }, (_, n) => ({ n }));
  const began = performance.now();
  const { id } = await api(base, 'POST', `/v1/functions/${fn}/batches`, { inputs });
  const acked = performance.now() - began;
  let view;
  do view = await api(base, 'GET', `/v1/batches/${id}?wait=60`);
  while (view.status === 'running');
  if (view.counts.succeeded !== size) throw new Error(`batch ended with ${JSON.stringify(view.counts)}`);
  return { acked, completed: performance.now() - began };
}

const work = mkdtempSync(join(tmpdir(), 'wisp-bench-batches-'));
const config = join(work, 'wisp.json');
writeFileSync(config, JSON.stringify({}));
const wisp = await start([join(root, 'dist', 'gateway-main.js')], { WISP_PORT: '0', WISP_DATA_DIR: join(work, 'data'), WISP_CONFIG: config });
const out = { singleAckMs: [], batchAckMs: [], completedPerSecond: [] };
try {
  for (let round = 0; round < rounds; round++) {
    // A function per kind and round: neither waits behind the other's backlog.
    const one = `one-${round}`;
    const many = `many-${round}`;
    for (const fn of [one, many]) await api(wisp.url, 'PUT', `/v1/functions/${fn}`, 'export default (input: { n: number }) => input.n + 1;');
    out.singleAckMs.push(await singles(wisp.url, one));
    // The singles' backlog drains before the batch is timed.
    for (;;) {
      const queued = (await api(wisp.url, 'GET', `/v1/invocations?function=${one}&status=queued&limit=1`)).invocations.length;
      const running = (await api(wisp.url, 'GET', `/v1/invocations?function=${one}&status=running&limit=1`)).invocations.length;
      if (queued + running === 0) break;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    const { acked, completed } = await batch(wisp.url, many);
    out.batchAckMs.push(acked);
    out.completedPerSecond.push(size / (completed / 1000));
    console.error(`round ${round + 1}: singles acked in ${out.singleAckMs.at(-1).toFixed(0)} ms, batch in ${acked.toFixed(0)} ms; batch complete in ${completed.toFixed(0)} ms`);
  }
} finally {
  wisp.child.kill('SIGTERM');
  rmSync(work, { recursive: true, force: true });
}
const single = median(out.singleAckMs);
const one = median(out.batchAckMs);
console.log(
  JSON.stringify(
    {
      backend: process.env.WISP_REDIS_URL ? 'redis' : 'embedded',
      size,
      singleAckMs: Math.round(single),
      batchAckMs: Math.round(one),
      ackSpeedup: Number((single / one).toFixed(1)),
      batchCompletedPerSecond: Math.round(median(out.completedPerSecond)),
    },
    null,
    2,
  ),
);
