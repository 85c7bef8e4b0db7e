#!/usr/bin/env node
// npm run bench:drain: how fast a backlog of asynchronous invocations drains, by its depth. The
// cost of claiming due work must not grow with the queue: a deeper backlog should drain at the
// same rate. For each depth (BENCH_DRAIN_DEPTHS, default 1000,20000,100000), on a fresh Wisp:
// every dispatcher slot is held by an invocation waiting on a local gate, DEPTH invocations of a
// trivial function are submitted behind them, the gate opens, and completions are counted from
// /metrics (wisp_calls_total for mode async, outcome ok) every 50 ms. Reported: the rate over
// the first fifth of the drain (the queue at its deepest), over the last fifth, and overall.
// Beside it at each depth, the reference a user would build instead (issue 22, target 6):
// Fastify + BullMQ on a fresh redis-server with AOF fsync always (bench/bullmq-reference.mjs),
// its worker paused while the same DEPTH jobs are submitted over HTTP, then resumed.
// `node bench/drain.mjs OLD_DIR` also runs a baseline build (a checkout with dist/ built) at each
// depth, right before this one, so both are measured side by side in one run.
// BENCH_DRAIN_BULLMQ=0 leaves the reference out; BENCH_DRAIN_NODE_FLAGS are passed to Wisp's gateway.
import { createServer } from 'node:http';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { api, root, start, startRedis } from './lib.mjs';
import { asyncFinished, submitMany } from './queue-lib.mjs';

const depths = (process.env.BENCH_DRAIN_DEPTHS ?? '1000,20000,100000').split(',').map(Number);
// Wisp's default invocations.maxRunning, and the reference's worker concurrency. Slots beyond
// the pool's threads hold gate invocations that wait for a thread: claimed, so the dispatcher
// is full all the same, and let through by the open gate when their turn comes.
const SLOTS = Number(process.env.BENCH_DRAIN_SLOTS ?? 8);
const baseline = process.argv[2] ? resolve(process.argv[2]) : undefined;
const withReference = process.env.BENCH_DRAIN_BULLMQ !== '0';
// Node flags for Wisp's gateway, e.g. '--cpu-prof --cpu-prof-dir=/tmp/prof' to profile it.
const nodeFlags = process.env.BENCH_DRAIN_NODE_FLAGS?.split(' ').filter(Boolean) ?? [];

async function gate() {
  const waiting = [];
  let opened = false;
  const server = createServer((_req, res) => {
    if (opened) res.end('go');
    else waiting.push(res);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    url: `http://127.0.0.1:${server.address().port}/`,
    open: () => {
      opened = true;
      waiting.splice(0).forEach((res) => res.end('go'));
    },
    close: () => server.close(),
  };
}

async function until(check) {
  while (!(await check())) await new Promise((resolve) => setTimeout(resolve, 50));
}

/** Lets the queued backlog go with open(), then samples done() every 50 ms until all `depth` are done. */
async function timeDrain(depth, open, done) {
  const samples = [{ t: 0, done: 0 }];
  const started = performance.now();
  await open();
  for (;;) {
    const count = await done();
    samples.push({ t: (performance.now() - started) / 1000, done: count });
    if (count >= depth) break;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  // From the last sample at or below `from` to the first at or past `to`: never an empty span.
  const rateBetween = (from, to) => {
    const a = samples.findLast((s) => s.done <= from) ?? samples[0];
    const b = samples.find((s) => s.done >= to && s.t > a.t) ?? samples.at(-1);
    return (b.done - a.done) / (b.t - a.t);
  };
  return { depth, first: rateBetween(0, depth * 0.2), last: rateBetween(depth * 0.8, depth), overall: depth / samples.at(-1).t };
}

async function drainOnReference(depth) {
  const work = mkdtempSync(join(tmpdir(), 'wisp-bench-drain-bullmq-'));
  const redis = await startRedis(work);
  const reference = await start(['bench/bullmq-reference.mjs'], { REDIS_URL: redis.url });
  try {
    await api(reference.url, 'POST', '/bench/pause');
    await submitMany(reference.url, depth);
    return await timeDrain(depth, () => api(reference.url, 'POST', '/bench/resume'), async () => (await api(reference.url, 'GET', '/stats')).completed);
  } finally {
    reference.child.kill('SIGTERM');
    await once(reference.child, 'exit');
    redis.child.kill('SIGTERM');
    await once(redis.child, 'exit');
    rmSync(work, { recursive: true, force: true });
  }
}

async function drainAt(depth, build) {
  const work = mkdtempSync(join(tmpdir(), 'wisp-bench-drain-'));
  const config = join(work, 'wisp.json');
  writeFileSync(config, JSON.stringify({ invocations: { maxRunning: SLOTS } }));
  const g = await gate();
  const wisp = await start([...nodeFlags, join(build, 'dist', 'gateway-main.js')], { WISP_PORT: '0', WISP_DATA_DIR: join(work, 'data'), WISP_CONFIG: config });
  try {
    // Held past the submissions, however long they take (100,000 take longer than the default 30 s timeout).
    await api(wisp.url, 'PUT', '/v1/functions/hold', `export const config = { timeoutMs: 900000 };\nexport default async () => (await fetch(${JSON.stringify(g.url)})).text();`);
    await api(wisp.url, 'PUT', '/v1/functions/hello', 'export default (input: { name?: string } | null) => ({ greeting: `Hello, ${input?.name ?? "world"}` });');
    for (let i = 0; i < SLOTS; i++) await api(wisp.url, 'POST', '/v1/functions/hold/invocations', {});
    // Every slot claimed: those with a thread wait on the gate, the others for a thread.
    await until(async () => (await api(wisp.url, 'GET', `/v1/invocations?function=hold&status=running&limit=${SLOTS}`)).invocations.length === SLOTS);
    await submitMany(wisp.url, depth);
    return await timeDrain(depth, () => g.open(), () => asyncFinished(wisp.url, { function: 'hello', outcome: 'ok' }));
  } finally {
    wisp.child.kill('SIGTERM');
    await once(wisp.child, 'exit');
    g.close();
    rmSync(work, { recursive: true, force: true });
  }
}

console.log(`backlog drain, Wisp with ${SLOTS} dispatcher slots (invocations.maxRunning), BullMQ with ${process.env.WORKER_CONCURRENCY ?? 8} (its worker concurrency); completions per second`);
console.log('   build |   depth | first fifth | last fifth | overall');
const builds = baseline ? [['baseline', baseline], ['this', root]] : [['this', root]];
const row = (label, r) => console.log(`${label.padStart(8)} | ${String(r.depth).padStart(7)} | ${r.first.toFixed(0).padStart(11)} | ${r.last.toFixed(0).padStart(10)} | ${r.overall.toFixed(0).padStart(7)}`);
for (const depth of depths) {
  const reference = withReference ? await drainOnReference(depth) : undefined;
  if (reference) row('bullmq', reference);
  for (const [label, build] of builds) {
    const r = await drainAt(depth, build);
    row(label, r);
    if (reference) console.log(`${''.padStart(8)} | ${''.padStart(7)} | ${(r.first / reference.first).toFixed(2).padStart(10)}x | ${(r.last / reference.last).toFixed(2).padStart(9)}x | ${(r.overall / reference.overall).toFixed(2).padStart(6)}x  ${label}/bullmq`);
  }
}
