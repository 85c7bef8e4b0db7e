#!/usr/bin/env node
// npm run bench:async: asynchronous invocations next to synchronous ones, on one Wisp process in
// the same run. Three figures per round, rounds alternating:
//   sync     wrk POST /v1/functions/hello/invoke, 50 connections: completed calls per second;
//   ack      wrk POST /v1/functions/hello/invocations, 50 connections: acknowledged (durably
//            recorded) invocations per second;
//   complete a batch of BENCH_ASYNC_BATCH (default 5000) submitted at once: invocations that
//            reached `succeeded` per second, from the first submission to the last completion.
// The queue is drained between measurements so none disturbs the next.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { api, duration, ensureWrk, median, rounds, start, wrk } from './lib.mjs';
import { batch, completeBatch, drained } from './queue-lib.mjs';

async function main() {
  ensureWrk();
  const work = mkdtempSync(join(tmpdir(), 'wisp-bench-async-'));
  const script = join(work, 'post.lua');
  writeFileSync(script, 'wrk.method = "POST"\nwrk.body = \'{"name":"bench"}\'\nwrk.headers["Content-Type"] = "application/json"\n');
  const wisp = await start(['dist/main.js'], { WISP_PORT: '0', WISP_DATA_DIR: join(work, 'data') });
  try {
    await api(wisp.url, 'PUT', '/v1/functions/hello', 'export default (input: { name?: string } | null) => ({ greeting: `Hello, ${input?.name ?? "world"}` });');
    const sync = `${wisp.url}/v1/functions/hello/invoke`;
    const submit = `${wisp.url}/v1/functions/hello/invocations`;
    wrk(sync, 10, script); // warm up
    const s = [];
    const a = [];
    const c = [];
    for (let round = 0; round < rounds; round++) {
      s.push(wrk(sync, 50, script).rps);
      a.push(wrk(submit, 50, script).rps);
      await drained(wisp.url);
      c.push(await completeBatch(wisp.url, batch));
    }
    const [ms, ma, mc] = [median(s), median(a), median(c)];
    console.log(`\nwrk -t1 -c50 -d${duration}s; completion batches of ${batch}; median of ${rounds} alternating rounds\n`);
    console.log('sync invoke/s | async acknowledged/s | async completed/s | ack/sync | completed/sync');
    console.log(`${ms.toFixed(0).padStart(13)} | ${ma.toFixed(0).padStart(20)} | ${mc.toFixed(0).padStart(17)} | ${(ma / ms).toFixed(2).padStart(8)} | ${(mc / ms).toFixed(2).padStart(14)}`);
  } finally {
    wisp.child.kill();
    rmSync(work, { recursive: true, force: true });
  }
}

await main();
