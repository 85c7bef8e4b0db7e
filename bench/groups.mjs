#!/usr/bin/env node
// Group benchmark (issue 4), side by side in one run: create and then destroy a group of 100
// small instances (cpu 10, memory 32) over HTTP, against starting 100 raw worker threads in
// parallel, waiting for each one's first message, and terminating them all. Target: Wisp at most
// 1.2× the raw time. BENCH_ROUNDS sets the samples (default 3 → 9 alternating samples).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Worker } from 'node:worker_threads';
import { api, median, rounds, start } from './lib.mjs';

const SIZE = 100;
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
  try {
    await api(wisp.url, 'PUT', '/v1/functions/counter', COUNTER);
    await raw(); // warm up both
    await wispGroup(wisp.url);
    const a = [];
    const b = [];
    for (let i = 0; i < rounds * 3; i++) {
      a.push(await raw());
      b.push(await wispGroup(wisp.url));
    }
    const ma = median(a);
    const mb = median(b);
    console.log(`\ngroup of ${SIZE}: create then destroy, median of ${a.length} alternating samples`);
    console.log(`   a = raw: ${SIZE} new Worker() in parallel to first message, then terminate: ${ma.toFixed(1)} ms`);
    console.log(`   b = Wisp: POST /v1/groups (${SIZE} members) then DELETE:            ${mb.toFixed(1)} ms`);
    console.log(`   b/a = ${(mb / ma).toFixed(2)} (target <= 1.20: ${mb / ma <= 1.2 ? 'met' : 'NOT met'})`);
  } finally {
    wisp.child.kill();
    rmSync(work, { recursive: true, force: true });
  }
}

await main();
