#!/usr/bin/env node
// Wisp's asynchronous invocations on the embedded backend against Fastify + BullMQ on Redis
// (AOF fsync always), side by side in one run (issue 22, point 6), rounds alternating:
//   ack       wrk POST .../invocations, 50 connections: acknowledged submissions per second,
//             and how many each completed per second meanwhile (both drain as they acknowledge);
//   complete  BENCH_ASYNC_BATCH (default 20000) submitted by 50 submitters: completions per
//             second from the first submission to the last completion.
// Target: ack ≥ 1.0×, complete ≥ 0.7×. Needs wrk and redis-server (Debian).
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { api, duration, ensureWrk, median, rounds, start, startRedis, wrk } from './lib.mjs';
import { asyncFinished, completeBatch, drained, submitMany } from './queue-lib.mjs';

const size = Number(process.env.BENCH_ASYNC_BATCH ?? 20000);

/** completeBatch's measure for the reference: 50 submitters, then until its worker completed them all. */
async function completeOnReference(base, n) {
  const before = (await api(base, 'GET', '/stats')).completed;
  const started = performance.now();
  await submitMany(base, n);
  while ((await api(base, 'GET', '/stats')).completed - before < n) await new Promise((resolve) => setTimeout(resolve, 50));
  return n / ((performance.now() - started) / 1000);
}

/** wrk's acknowledged/s at 50 connections; pushes onto `completions` the completions per second during the run. */
async function whileAcknowledging(url, script, completed, completions) {
  const before = await completed();
  const started = performance.now();
  const { rps } = wrk(url, 50, script);
  completions.push(((await completed()) - before) / ((performance.now() - started) / 1000));
  return rps;
}

/** Until the reference's worker has caught up with what was acknowledged so far. */
async function referenceIdle(base) {
  let last = -1;
  for (;;) {
    const { completed } = await api(base, 'GET', '/stats');
    if (completed === last) return;
    last = completed;
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

async function main() {
  ensureWrk();
  const work = mkdtempSync(join(tmpdir(), 'wisp-bench-bullmq-'));
  mkdirSync(join(work, 'redis'));
  const script = join(work, 'post.lua');
  writeFileSync(script, 'wrk.method = "POST"\nwrk.body = \'{"name":"bench"}\'\nwrk.headers["Content-Type"] = "application/json"\n');
  const redis = await startRedis(join(work, 'redis'));
  const reference = await start(['bench/bullmq-reference.mjs'], { REDIS_URL: redis.url });
  const wisp = await start(['dist/main.js'], { WISP_PORT: '0', WISP_DATA_DIR: join(work, 'data') });
  try {
    await api(wisp.url, 'PUT', '/v1/functions/hello', 'export default (input: { name?: string } | null) => ({ greeting: `Hello, ${input?.name ?? "world"}` });');
    const submit = (base) => `${base}/v1/functions/hello/invocations`;
    wrk(submit(reference.url), 10, script); // warm up
    wrk(submit(wisp.url), 10, script);
    const acks = { a: [], b: [] };
    const done = { a: [], b: [] };
    const meanwhile = { a: [], b: [] };
    for (let round = 0; round < rounds; round++) {
      await referenceIdle(reference.url);
      await drained(wisp.url);
      acks.a.push(await whileAcknowledging(submit(reference.url), script, async () => (await api(reference.url, 'GET', '/stats')).completed, meanwhile.a));
      await drained(wisp.url);
      acks.b.push(await whileAcknowledging(submit(wisp.url), script, () => asyncFinished(wisp.url), meanwhile.b));
      await referenceIdle(reference.url);
      await drained(wisp.url);
      done.a.push(await completeOnReference(reference.url, size));
      done.b.push(await completeBatch(wisp.url, size));
    }
    const f = (n) => n.toFixed(0).padStart(8);
    const [aa, ab, ca, cb] = [median(acks.a), median(acks.b), median(done.a), median(done.b)];
    console.log(`\nwrk -t1 -c50 -d${duration}s; completion over ${size} submitted at once; median of ${rounds} alternating rounds`);
    console.log(`a = Fastify + BullMQ on Redis (AOF fsync always), b = Wisp embedded\n`);
    console.log(`acknowledged/s  a ${f(aa)}  b ${f(ab)}  b/a ${(ab / aa).toFixed(2)} (target >= 1.0: ${ab / aa >= 1 ? 'met' : 'NOT met'})`);
    const [ma, mb] = [median(meanwhile.a), median(meanwhile.b)];
    console.log(`  completed/s meanwhile  a ${f(ma)}  b ${f(mb)}  b/a ${(mb / ma).toFixed(2)}`);
    console.log(`completed/s     a ${f(ca)}  b ${f(cb)}  b/a ${(cb / ca).toFixed(2)} (target >= 0.7: ${cb / ca >= 0.7 ? 'met' : 'NOT met'})`);
  } finally {
    wisp.child.kill();
    reference.child.kill();
    redis.child.kill();
    rmSync(work, { recursive: true, force: true });
  }
}

await main();
