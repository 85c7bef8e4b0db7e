#!/usr/bin/env node
// npm run bench: bare Fastify (a) vs Wisp invoking a trivial function (b), side by side in one
// run, same wrk settings, rounds alternating so drift on a shared machine hits all alike.
// Prints req/s, p50 and p99 for each and the ratio b/a. Also (c), bare Fastify passing the body
// through a Piscina pool with nothing else: the ceiling any platform on Piscina can reach here. Settings: BENCH_DURATION (s, default
// 10), BENCH_ROUNDS (default 3). Needs wrk (Debian: apt-get install wrk).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { duration, ensureWrk, median, rounds, start, wrk } from './lib.mjs';

const connectionCounts = [50, 1];

async function main() {
  ensureWrk();
  const work = mkdtempSync(join(tmpdir(), 'wisp-bench-'));
  const script = join(work, 'post.lua');
  writeFileSync(script, 'wrk.method = "POST"\nwrk.body = \'{"name":"bench"}\'\nwrk.headers["Content-Type"] = "application/json"\n');
  const bare = await start(['bench/bare-fastify.mjs'], {});
  const passthrough = await start(['bench/piscina-passthrough.mjs'], {});
  const wisp = await start(['dist/main.js'], { WISP_PORT: '0', WISP_DATA_DIR: join(work, 'data') });
  try {
    const deployed = await fetch(`${wisp.url}/v1/functions/hello`, {
      method: 'PUT',
      headers: { 'content-type': 'application/typescript' },
      body: 'export default (input: { name?: string } | null) => ({ greeting: `Hello, ${input?.name ?? "world"}` });',
    });
    if (deployed.status !== 201) throw new Error(`deploy failed: ${await deployed.text()}`);
    const target = (base) => `${base}/v1/functions/hello/invoke`;
    for (const base of [bare.url, wisp.url, passthrough.url]) wrk(target(base), 10, script); // warm up JITs and threads

    const rows = [];
    for (const connections of connectionCounts) {
      const a = [];
      const b = [];
      const c = [];
      for (let round = 0; round < rounds; round++) {
        a.push(wrk(target(bare.url), connections, script));
        b.push(wrk(target(wisp.url), connections, script));
        c.push(wrk(target(passthrough.url), connections, script));
      }
      const summary = (runs) => ({ rps: median(runs.map((r) => r.rps)), p50: median(runs.map((r) => r.p50)), p99: median(runs.map((r) => r.p99)) });
      const sa = summary(a);
      const sb = summary(b);
      const sc = summary(c);
      rows.push({ connections, a: sa, b: sb, c: sc, ratio: sb.rps / sa.rps, ceiling: sc.rps / sa.rps, p50Delta: sb.p50 - sa.p50 });
    }
    console.log(`\nwrk -t1 -d${duration}s, median of ${rounds} alternating rounds`);
    console.log('a = bare Fastify, b = Wisp invoke, c = bare Fastify + Piscina passthrough (reference)\n');
    console.log('conns | a req/s  | a p50 ms | a p99 ms | b req/s  | b p50 ms | b p99 ms | c req/s  | c p50 ms | b/a req/s | c/a req/s | b-a p50 ms');
    for (const r of rows) {
      const f = (n, d = 3) => n.toFixed(d).padStart(8);
      console.log(
        `${String(r.connections).padStart(5)} | ${f(r.a.rps, 0)} | ${f(r.a.p50)} | ${f(r.a.p99)} | ${f(r.b.rps, 0)} | ${f(r.b.p50)} | ${f(r.b.p99)} | ${f(r.c.rps, 0)} | ${f(r.c.p50)} | ${f(r.ratio, 2)}  | ${f(r.ceiling, 2)}  | ${f(r.p50Delta)}`,
      );
    }
    const at50 = rows.find((r) => r.connections === 50);
    const at1 = rows.find((r) => r.connections === 1);
    console.log(`\ntargets: ratio at 50 connections >= 0.40: ${at50.ratio.toFixed(2)} ${at50.ratio >= 0.4 ? 'met' : 'NOT met'}`);
    console.log(`         p50 at 1 connection within 0.15 ms of bare: +${at1.p50Delta.toFixed(3)} ms ${at1.p50Delta <= 0.15 ? 'met' : 'NOT met'}`);
  } finally {
    bare.child.kill();
    passthrough.child.kill();
    wisp.child.kill();
    rmSync(work, { recursive: true, force: true });
  }
}

await main();
