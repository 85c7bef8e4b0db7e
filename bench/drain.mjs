#!/usr/bin/env node
// npm run bench:drain: how fast a backlog of asynchronous invocations drains, by its depth. The
// cost of claiming due work must not grow with the queue: a deeper backlog should drain at the
// same rate. For each depth (BENCH_DRAIN_DEPTHS, default 1000,20000,100000), on a fresh Wisp:
// every dispatcher slot is held by an invocation waiting on a local gate, DEPTH invocations of a
// trivial function are submitted behind them, the gate opens, and completions are counted from
// /metrics (wisp_calls_total for mode async, outcome ok) every 50 ms. Reported: the rate over
// the first fifth of the drain (the queue at its deepest), over the last fifth, and overall.
// `node bench/drain.mjs OLD_DIR` also runs a baseline build (a checkout with dist/ built) at each
// depth, right before this one, so both are measured side by side in one run.
import { createServer } from 'node:http';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { api, root, start } from './lib.mjs';

const depths = (process.env.BENCH_DRAIN_DEPTHS ?? '1000,20000,100000').split(',').map(Number);
const SLOTS = 4;
const baseline = process.argv[2] ? resolve(process.argv[2]) : undefined;

async function gate() {
  const waiting = [];
  let arrived = 0;
  const server = createServer((_req, res) => {
    arrived++;
    waiting.push(res);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    url: `http://127.0.0.1:${server.address().port}/`,
    arrived: () => arrived,
    open: () => waiting.splice(0).forEach((res) => res.end('go')),
    close: () => server.close(),
  };
}

async function completed(base) {
  const text = await (await fetch(`${base}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith('wisp_calls_total{') && l.includes('function="hello"') && l.includes('mode="async"') && l.includes('outcome="ok"'));
  return line ? Number(line.split(' ').pop()) : 0;
}

async function until(check) {
  while (!(await check())) await new Promise((resolve) => setTimeout(resolve, 50));
}

async function drainAt(depth, build) {
  const work = mkdtempSync(join(tmpdir(), 'wisp-bench-drain-'));
  const config = join(work, 'wisp.json');
  writeFileSync(config, JSON.stringify({ invocations: { maxRunning: SLOTS } }));
  const g = await gate();
  const wisp = await start([join(build, 'dist', 'gateway-main.js')], { WISP_PORT: '0', WISP_DATA_DIR: join(work, 'data'), WISP_CONFIG: config });
  try {
    await api(wisp.url, 'PUT', '/v1/functions/hold', `export default async () => (await fetch(${JSON.stringify(g.url)})).text();`);
    await api(wisp.url, 'PUT', '/v1/functions/hello', 'export default (input: { name?: string } | null) => ({ greeting: `Hello, ${input?.name ?? "world"}` });');
    for (let i = 0; i < SLOTS; i++) await api(wisp.url, 'POST', '/v1/functions/hold/invocations', {});
    await until(() => g.arrived() === SLOTS);
    let next = 0;
    await Promise.all(
      Array.from({ length: 50 }, async () => {
        while (next < depth) {
          next++;
          await api(wisp.url, 'POST', '/v1/functions/hello/invocations', { name: 'bench' });
        }
      }),
    );
    const samples = [{ t: 0, done: 0 }];
    const started = performance.now();
    g.open();
    for (;;) {
      const done = await completed(wisp.url);
      samples.push({ t: (performance.now() - started) / 1000, done });
      if (done >= depth) break;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    // From the last sample at or below `from` to the first at or past `to`: never an empty span.
    const rateBetween = (from, to) => {
      const a = samples.findLast((s) => s.done <= from) ?? samples[0];
      const b = samples.find((s) => s.done >= to && s.t > a.t) ?? samples.at(-1);
      return (b.done - a.done) / (b.t - a.t);
    };
    return { depth, first: rateBetween(0, depth * 0.2), last: rateBetween(depth * 0.8, depth), overall: depth / samples.at(-1).t };
  } finally {
    wisp.child.kill('SIGTERM');
    await once(wisp.child, 'exit');
    g.close();
    rmSync(work, { recursive: true, force: true });
  }
}

console.log(`backlog drain, ${SLOTS} dispatcher slots (invocations.maxRunning), completions per second`);
console.log('   build |   depth | first fifth | last fifth | overall');
const builds = baseline ? [['baseline', baseline], ['this', root]] : [['this', root]];
for (const depth of depths) {
  for (const [label, build] of builds) {
    const r = await drainAt(depth, build);
    console.log(`${label.padStart(8)} | ${String(r.depth).padStart(7)} | ${r.first.toFixed(0).padStart(11)} | ${r.last.toFixed(0).padStart(10)} | ${r.overall.toFixed(0).padStart(7)}`);
  }
}
