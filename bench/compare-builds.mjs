#!/usr/bin/env node
// Two builds of Wisp side by side in one run: `node bench/compare-builds.mjs OLD_DIR [NEW_DIR]`
// (each a checkout with dist/ built; NEW_DIR defaults to this one). For the cost of a change on
// the invoke path: the same wrk load on both, rounds alternating so drift on a shared machine
// hits both alike. Two workloads: one function called over and over, and two functions called
// in turn (each call switches the function a pool thread runs). BENCH_DURATION, BENCH_ROUNDS.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { api, duration, ensureWrk, median, root, rounds, start, wrk } from './lib.mjs';

const [oldDir, newDir = root] = process.argv.slice(2).map((dir) => resolve(dir));
if (!oldDir) throw new Error('usage: node bench/compare-builds.mjs OLD_DIR [NEW_DIR]');

const HELLO = 'export default (input: { name?: string } | null) => ({ greeting: `Hello, ${input?.name ?? "world"}` });';

function scripts(work) {
  const one = join(work, 'one.lua');
  writeFileSync(one, 'wrk.method = "POST"\nwrk.body = \'{"name":"bench"}\'\nwrk.headers["Content-Type"] = "application/json"\n');
  const two = join(work, 'two.lua');
  writeFileSync(
    two,
    'local n = 0\nrequest = function()\n  n = n + 1\n  local name = (n % 2 == 0) and "hello" or "hello-two"\n' +
      '  return wrk.format("POST", "/v1/functions/" .. name .. "/invoke", { ["Content-Type"] = "application/json" }, \'{"name":"bench"}\')\nend\n',
  );
  return { one, two };
}

async function main() {
  ensureWrk();
  const work = mkdtempSync(join(tmpdir(), 'wisp-compare-'));
  const { one, two } = scripts(work);
  const servers = [];
  try {
    for (const [label, dir] of [['old', oldDir], ['new', newDir]]) {
      const server = await start([join(dir, 'dist', 'main.js')], { WISP_PORT: '0', WISP_DATA_DIR: join(work, label) });
      for (const name of ['hello', 'hello-two']) await api(server.url, 'PUT', `/v1/functions/${name}`, HELLO);
      servers.push({ label, dir, ...server });
    }
    const target = (base) => `${base}/v1/functions/hello/invoke`;
    for (const s of servers) wrk(target(s.url), 10, one); // warm up JITs and threads
    console.log(`\nwrk -t1 -d${duration}s, median of ${rounds} alternating rounds; old = ${oldDir}, new = ${newDir}\n`);
    console.log('workload        | conns | old req/s | old p50 ms | new req/s | new p50 ms | new/old req/s | new-old p50 ms');
    for (const [workload, script] of [['one function', one], ['two in turn', two]]) {
      for (const connections of [50, 1]) {
        const runs = { old: [], new: [] };
        for (let round = 0; round < rounds; round++) for (const s of servers) runs[s.label].push(wrk(target(s.url), connections, script));
        const m = (label, key) => median(runs[label].map((r) => r[key]));
        const f = (n, d) => n.toFixed(d).padStart(9);
        console.log(
          `${workload.padEnd(15)} | ${String(connections).padStart(5)} | ${f(m('old', 'rps'), 0)} | ${f(m('old', 'p50'), 3)}  | ${f(m('new', 'rps'), 0)} | ${f(m('new', 'p50'), 3)}  | ${f(m('new', 'rps') / m('old', 'rps'), 2)}     | ${f(m('new', 'p50') - m('old', 'p50'), 3)}`,
        );
      }
    }
  } finally {
    for (const s of servers) s.child.kill('SIGTERM');
    rmSync(work, { recursive: true, force: true });
  }
}

await main();
