#!/usr/bin/env node
// Group benchmark (issue 4), side by side in one run: create and then destroy a group of 100
// small instances (cpu 10, memory 32) over HTTP, against starting 100 raw worker threads in
// parallel, waiting for each one's first message, and terminating them all. Target: Wisp at most
// 1.2× the raw time (issue 22: 1.1×). BENCH_ROUNDS sets the samples (default 3 → 9 alternating
// samples). With a directory argument, that build (its dist/) runs beside this one, in turn.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Worker } from 'node:worker_threads';
import { api, median, rounds, start } from './lib.mjs';

const SIZE = 100;
const oldDir = process.argv[2] ? resolve(process.argv[2]) : undefined;
const COUNTER = 'export class Counter { count = 0; add(n: number) { this.count += n; return this.count; } }';

async function raw() {
  const began = performance.now();
  const workers = Array.from({ length: SIZE }, () => new Worker(new URL('./first-message-worker.cjs', import.meta.url), { resourceLimits: { maxOldGenerationSizeMb: 32 } }));
  await Promise.all(workers.map((w) => new Promise((resolve, reject) => { w.once('message', resolve); w.once('error', reject); })));
  await Promise.all(workers.map((w) => w.terminate()));
  return performance.now() - began;
}

let serial = 0;
async function wispGroup(base) {
  const name = `g${++serial}`;
  const began = performance.now();
  await api(base, 'POST', '/v1/groups', { name, instances: Array.from({ length: SIZE }, () => ({ function: 'counter', resources: { cpu: 10, memory: 32 } })) });
  await api(base, 'DELETE', `/v1/groups/${name}`);
  return performance.now() - began;
}

async function main() {
  const work = mkdtempSync(join(tmpdir(), 'wisp-bench-'));
  const wisp = await start(['dist/main.js'], { WISP_PORT: '0', WISP_DATA_DIR: join(work, 'data') });
  const other = oldDir ? await start([join(oldDir, 'dist', 'main.js')], { WISP_PORT: '0', WISP_DATA_DIR: join(work, 'old') }) : undefined;
  try {
    for (const server of [wisp, other].filter(Boolean)) {
      await api(server.url, 'PUT', '/v1/functions/counter', COUNTER);
      await wispGroup(server.url); // warm up
    }
    await raw();
    const a = [];
    const b = [];
    const c = [];
    for (let i = 0; i < rounds * 3; i++) {
      a.push(await raw());
      b.push(await wispGroup(wisp.url));
      if (other) c.push(await wispGroup(other.url));
    }
    const ma = median(a);
    const mb = median(b);
    console.log(`\ngroup of ${SIZE}: create then destroy, median of ${a.length} alternating samples`);
    console.log(`   a = raw: ${SIZE} new Worker() in parallel to first message, then terminate: ${ma.toFixed(1)} ms`);
    console.log(`   b = Wisp: POST /v1/groups (${SIZE} members) then DELETE:            ${mb.toFixed(1)} ms`);
    console.log(`   b/a = ${(mb / ma).toFixed(2)} (target <= 1.10: ${mb / ma <= 1.1 ? 'met' : 'NOT met'})`);
    if (other) console.log(`   c = the build in ${oldDir}: ${median(c).toFixed(1)} ms; b/c = ${(mb / median(c)).toFixed(2)}`);
  } finally {
    wisp.child.kill();
    other?.child.kill();
    rmSync(work, { recursive: true, force: true });
  }
}

await main();
