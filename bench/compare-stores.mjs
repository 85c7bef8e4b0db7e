#!/usr/bin/env node
// npm run bench:stores [-- OLD_DIR]: the store backends side by side in one run, each a Wisp
// process of its own, rounds alternating so drift on a shared machine hits all alike:
//   embedded  this build on SQLite in its data dir (the default);
//   redis     this build on a local redis-server with appendonly yes and appendfsync always (the
//             same durability: an acknowledgement follows an fsync);
//   baseline  with OLD_DIR (a checkout with dist/ built), that build on SQLite, to see what a
//             change costs the embedded default.
// Per round and setup: sync invoke/s and async acknowledged/s (wrk -t1 -c50), and the completion
// rate of a batch of BENCH_ASYNC_BATCH (default 5000) submitted at once. Medians are printed,
// with each setup's ratio to the embedded one.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { api, duration, ensureWrk, median, root, rounds, start, wrk } from './lib.mjs';
import { batch, completeBatch, drained } from './queue-lib.mjs';

const baseline = process.argv[2] ? resolve(process.argv[2]) : undefined;
const HELLO = 'export default (input: { name?: string } | null) => ({ greeting: `Hello, ${input?.name ?? "world"}` });';

async function redisServer(dir) {
  const probe = createServer().listen(0, '127.0.0.1');
  await once(probe, 'listening');
  const { port } = probe.address();
  await new Promise((done) => probe.close(done));
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--appendonly', 'yes', '--appendfsync', 'always', '--save', ''], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  await new Promise((ready, fail) => {
    child.stdout.on('data', (chunk) => /Ready to accept connections/.test(String(chunk)) && ready());
    child.on('exit', (code) => fail(new Error(`redis-server exited with ${code}`)));
  });
  return { url: `redis://127.0.0.1:${port}`, child };
}

async function main() {
  ensureWrk();
  const work = mkdtempSync(join(tmpdir(), 'wisp-bench-stores-'));
  const script = join(work, 'post.lua');
  writeFileSync(script, 'wrk.method = "POST"\nwrk.body = \'{"name":"bench"}\'\nwrk.headers["Content-Type"] = "application/json"\n');
  const redis = await redisServer(mkdtempSync(join(work, 'redis-')));
  const setups = [
    ...(baseline ? [{ label: 'baseline', dir: baseline, env: {} }] : []),
    { label: 'embedded', dir: root, env: {} },
    { label: 'redis', dir: root, env: { WISP_REDIS_URL: redis.url } },
  ];
  try {
    for (const setup of setups) {
      setup.wisp = await start([join(setup.dir, 'dist', 'main.js')], { WISP_PORT: '0', WISP_DATA_DIR: join(work, `data-${setup.label}`), ...setup.env });
      await api(setup.wisp.url, 'PUT', '/v1/functions/hello', HELLO);
      wrk(`${setup.wisp.url}/v1/functions/hello/invoke`, 10, script); // warm up
      Object.assign(setup, { sync: [], ack: [], complete: [] });
    }
    for (let round = 0; round < rounds; round++) {
      for (const setup of setups) {
        setup.sync.push(wrk(`${setup.wisp.url}/v1/functions/hello/invoke`, 50, script).rps);
        setup.ack.push(wrk(`${setup.wisp.url}/v1/functions/hello/invocations`, 50, script).rps);
        await drained(setup.wisp.url);
        setup.complete.push(await completeBatch(setup.wisp.url, batch));
      }
    }
    const embedded = setups.find((s) => s.label === 'embedded');
    const ratio = (setup, key) => (median(setup[key]) / median(embedded[key])).toFixed(2);
    console.log(`\nwrk -t1 -c50 -d${duration}s; completion batches of ${batch}; median of ${rounds} alternating rounds\n`);
    console.log('   setup | sync invoke/s | async acknowledged/s | async completed/s | ratios to embedded (sync, ack, completed)');
    for (const setup of setups) {
      const cells = [median(setup.sync).toFixed(0).padStart(13), median(setup.ack).toFixed(0).padStart(20), median(setup.complete).toFixed(0).padStart(17)];
      console.log(`${setup.label.padStart(8)} | ${cells.join(' | ')} | ${ratio(setup, 'sync')}, ${ratio(setup, 'ack')}, ${ratio(setup, 'complete')}`);
    }
  } finally {
    for (const setup of setups) setup.wisp?.child.kill();
    redis.child.kill('SIGKILL');
    rmSync(work, { recursive: true, force: true });
  }
}

await main();
