#!/usr/bin/env node
// Instance benchmarks (issue 3), each side by side with its baseline in the same run:
//  1. method calls over HTTP at 50 connections: Wisp vs Fastify + one pinned worker (target ≥ 0.7×; issue 22: ≥ 0.9×);
//  2. creation latency p50: POST .../instances vs raw `new Worker()` to its first message (target ≤ +5 ms),
//     with a spare thread (the usual case) and without one (a heap size not asked for before);
//  3. idle RSS per instance over 50 instances (target ≤ 10 MB each);
//  4. bursts: 20 creates one after another, p50 and p99 (issue 22: ≤ 5 ms and ≤ 25 ms), against 20
//     raw `new Worker()` starts one after another, and what the warm threads cost in RSS.
// Settings as bench/run.mjs: BENCH_DURATION, BENCH_ROUNDS. Needs wrk.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { api, duration, ensureWrk, gatewayPid, median, rawWorkerStart, rounds, start, timingClient, wrk } from './lib.mjs';

const COUNTER = 'export class Counter { count = 0; add(n: number) { this.count += n; return this.count; } }';
const SMALL = { cpu: 10, memory: 64 };

const rssMb = (pid) => Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))[1]) / 1024;


/** Creates are timed through timingClient: a fetch() of its own would add ~1 ms to each. */
let timed;

async function wispStart(base, resources = SMALL) {
  const began = performance.now();
  const { id } = await timed.post('/v1/functions/counter/instances', { resources });
  const ms = performance.now() - began;
  await api(base, 'DELETE', `/v1/instances/${id}`);
  return ms;
}

async function main() {
  ensureWrk();
  const work = mkdtempSync(join(tmpdir(), 'wisp-bench-'));
  const script = join(work, 'call.lua');
  writeFileSync(script, 'wrk.method = "POST"\nwrk.body = "[1]"\nwrk.headers["Content-Type"] = "application/json"\n');
  const baseline = await start(['bench/pinned-worker.mjs'], {});
  const wisp = await start(['dist/main.js'], { WISP_PORT: '0', WISP_DATA_DIR: join(work, 'data') });
  timed = timingClient(wisp.url);
  try {
    await api(wisp.url, 'PUT', '/v1/functions/counter', COUNTER);
    const { id } = await api(wisp.url, 'POST', '/v1/functions/counter/instances', { resources: SMALL });
    const target = (base, instance) => `${base}/v1/instances/${instance}/methods/add`;
    wrk(target(baseline.url, 'x'), 10, script); // warm up
    wrk(target(wisp.url, id), 10, script);
    const a = [];
    const b = [];
    for (let round = 0; round < rounds; round++) {
      a.push(wrk(target(baseline.url, 'x'), 50, script));
      b.push(wrk(target(wisp.url, id), 50, script));
    }
    await api(wisp.url, 'DELETE', `/v1/instances/${id}`);
    const calls = { a: median(a.map((r) => r.rps)), b: median(b.map((r) => r.rps)), ap50: median(a.map((r) => r.p50)), bp50: median(b.map((r) => r.p50)) };

    const raw = [];
    const created = [];
    for (let i = 0; i < 5; i++) {
      await rawWorkerStart(); // warm up both
      await wispStart(wisp.url);
    }
    const cold = [];
    for (let i = 0; i < 40; i++) {
      raw.push(await rawWorkerStart());
      created.push(await wispStart(wisp.url));
      // A heap size never asked for before has no spare thread: the thread boots on the spot.
      cold.push(await wispStart(wisp.url, { cpu: 10, memory: 100 + i }));
    }

    // The gateway's RSS: since issue 13, dist/main.js is its supervisor, whose RSS this read until issue 19.
    const gateway = gatewayPid(wisp.child.pid);
    const before = rssMb(gateway);
    const ids = [];
    for (let i = 0; i < 50; i++) ids.push((await api(wisp.url, 'POST', '/v1/functions/counter/instances', { resources: SMALL })).id);
    for (const instance of ids) await api(wisp.url, 'POST', `/v1/instances/${instance}/methods/add`, [1]);
    const after = rssMb(gateway);

    for (const instance of ids) await api(wisp.url, 'DELETE', `/v1/instances/${instance}`);

    // 4. Bursts of 20: the first teaches the node the rate; the warm pool then boots threads for the next.
    const burstRaw = [];
    const burst = [];
    const first = [];
    const burstOnce = async (into) => {
      const made = [];
      for (let i = 0; i < 20; i++) {
        const began = performance.now();
        made.push((await timed.post('/v1/functions/counter/instances', { resources: SMALL })).id);
        into.push(performance.now() - began);
      }
      for (const instance of made) await api(wisp.url, 'DELETE', `/v1/instances/${instance}`);
    };
    const settle = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
    await burstOnce(first);
    for (let round = 0; round < 5; round++) {
      for (let i = 0; i < 20; i++) burstRaw.push(await rawWorkerStart());
      await settle(1500); // the pool boots its threads, one after another
      await burstOnce(burst);
    }
    await settle(1500);
    const warmRss = rssMb(gateway);
    await settle(17_000); // past the 10 s rate window and a 5 s trim: back to one kept thread
    const quietRss = rssMb(gateway);
    const pct = (values, p) => [...values].sort((x, y) => x - y)[Math.min(values.length - 1, Math.floor(values.length * p))];

    const f = (n, d = 2) => n.toFixed(d);
    console.log(`\n1. method calls, wrk -t1 -c50 -d${duration}s, median of ${rounds} alternating rounds`);
    console.log(`   a = Fastify + pinned worker: ${f(calls.a, 0)} req/s, p50 ${f(calls.ap50, 3)} ms`);
    console.log(`   b = Wisp instance method:    ${f(calls.b, 0)} req/s, p50 ${f(calls.bp50, 3)} ms`);
    console.log(`   b/a = ${f(calls.b / calls.a)} (issue 3's target >= 0.70: ${calls.b / calls.a >= 0.7 ? 'met' : 'NOT met'}; issue 22's >= 0.90: ${calls.b / calls.a >= 0.9 ? 'met' : 'NOT met'})`);
    const rawP50 = median(raw);
    const wispP50 = median(created);
    console.log(`\n2. creation, 40 alternating samples`);
    console.log(`   raw new Worker(cjs) to first message: p50 ${f(rawP50)} ms`);
    console.log(`   Wisp POST /instances answered:        p50 ${f(wispP50)} ms`);
    console.log(`   difference ${f(wispP50 - rawP50)} ms (target <= 5 ms: ${wispP50 - rawP50 <= 5 ? 'met' : 'NOT met'})`);
    console.log(`   cold (a heap size with no spare thread booted): p50 ${f(median(cold))} ms, ${f(median(cold) - rawP50)} ms over raw`);
    const perInstance = (after - before) / 50;
    console.log(`\n3. idle memory: Wisp RSS ${f(before, 0)} MB -> ${f(after, 0)} MB with 50 instances`);
    console.log(`   ${f(perInstance)} MB per instance (target <= 10 MB: ${perInstance <= 10 ? 'met' : 'NOT met'})`);
    const p50 = pct(burst, 0.5);
    const p99 = pct(burst, 0.99);
    console.log(`\n4. bursts of 20 creates one after another (5 bursts after a first that teaches the rate)`);
    console.log(`   raw new Worker() x20 in a row: p50 ${f(pct(burstRaw, 0.5))} ms, p99 ${f(pct(burstRaw, 0.99))} ms`);
    console.log(`   Wisp, first burst (cold pool): p50 ${f(pct(first, 0.5))} ms, p99 ${f(pct(first, 0.99))} ms`);
    console.log(`   Wisp, later bursts:            p50 ${f(p50)} ms (target <= 5: ${p50 <= 5 ? 'met' : 'NOT met'}), p99 ${f(p99)} ms (target <= 25: ${p99 <= 25 ? 'met' : 'NOT met'})`);
    console.log(`   gateway RSS with the pool warm ${f(warmRss, 0)} MB, quiet (one kept) ${f(quietRss, 0)} MB: ${f(warmRss - quietRss, 0)} MB for the warm threads`);
  } finally {
    timed.close();
    baseline.child.kill();
    wisp.child.kill();
    rmSync(work, { recursive: true, force: true });
  }
}

await main();
