#!/usr/bin/env node
// Wisp against Cloudflare's workerd (issue 22), side by side in one run, same wrk load, rounds
// alternating: (1) a stateless echo, Wisp's sync invoke against a workerd fetch worker returning
// the same JSON; (2) a counter, a Wisp instance method against a workerd Durable Object (one
// object for every request, as Wisp's benchmark calls one instance). Targets: (1) ≥ 1.3×,
// (2) ≥ 4×. workerd (an npm package with a native binary, ~90 MB unpacked) is installed on first
// use into ~/.cache/wisp-bench, not into the project. Settings: BENCH_DURATION, BENCH_ROUNDS.
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { api, duration, ensureWrk, freePort, median, root, rounds, start, wrk } from './lib.mjs';

const WORKERD_VERSION = '1.20261123.1';
const HELLO = 'export default (input: { name?: string } | null) => ({ greeting: `Hello, ${input?.name ?? "world"}` });';
const COUNTER = 'export class Counter { count = 0; add(n: number) { this.count += n; return this.count; } }';

function ensureWorkerd() {
  const dir = join(homedir(), '.cache', 'wisp-bench', `workerd-${WORKERD_VERSION}`);
  const bin = join(dir, 'node_modules', '.bin', 'workerd');
  if (!existsSync(bin)) {
    console.error(`bench: installing workerd ${WORKERD_VERSION} into ${dir}`);
    mkdirSync(dir, { recursive: true });
    execFileSync('npm', ['install', '--no-audit', '--no-fund', '--prefix', dir, `workerd@${WORKERD_VERSION}`], { stdio: 'inherit' });
  }
  return bin;
}

async function startWorkerd(bin) {
  const [echo, counter] = [await freePort(), await freePort()];
  const child = spawn(bin, ['serve', join(root, 'bench/workerd/config.capnp'), '--socket-addr', `echo=127.0.0.1:${echo}`, '--socket-addr', `counter=127.0.0.1:${counter}`], { stdio: ['ignore', 'pipe', 'pipe'] });
  const listening = new Set();
  await new Promise((resolve, reject) => {
    for (const stream of [child.stdout, child.stderr]) {
      createInterface({ input: stream }).on('line', (line) => {
        if (/Listening on/.test(line)) listening.add(line);
        if (listening.size === 2) resolve();
      });
    }
    child.on('exit', (code) => reject(new Error(`workerd exited with ${code}`)));
  });
  return { child, echo: `http://127.0.0.1:${echo}/`, counter: `http://127.0.0.1:${counter}/` };
}

async function main() {
  ensureWrk();
  const bin = ensureWorkerd();
  const work = mkdtempSync(join(tmpdir(), 'wisp-bench-'));
  const post = (name, body) => {
    const file = join(work, name);
    writeFileSync(file, `wrk.method = "POST"\nwrk.body = '${body}'\nwrk.headers["Content-Type"] = "application/json"\n`);
    return file;
  };
  const greet = post('greet.lua', '{"name":"bench"}');
  const add = post('add.lua', '[1]');
  const wisp = await start(['dist/main.js'], { WISP_PORT: '0', WISP_DATA_DIR: join(work, 'data') });
  const workerd = await startWorkerd(bin);
  try {
    await api(wisp.url, 'PUT', '/v1/functions/hello', HELLO);
    await api(wisp.url, 'PUT', '/v1/functions/counter', COUNTER);
    const { id } = await api(wisp.url, 'POST', '/v1/functions/counter/instances', { resources: { cpu: 10, memory: 64 } });
    const pairs = [
      { what: 'stateless echo', target: 1.3, wisp: [`${wisp.url}/v1/functions/hello/invoke`, greet], workerd: [workerd.echo, greet] },
      { what: 'counter (instance / Durable Object)', target: 4, wisp: [`${wisp.url}/v1/instances/${id}/methods/add`, add], workerd: [workerd.counter, add] },
    ];
    for (const pair of pairs) {
      wrk(pair.wisp[0], 50, pair.wisp[1]); // warm up JITs and threads
      wrk(pair.workerd[0], 50, pair.workerd[1]);
    }
    console.log(`\nwrk -t1 -c50 -d${duration}s, median of ${rounds} alternating rounds`);
    for (const pair of pairs) {
      const a = [];
      const b = [];
      for (let round = 0; round < rounds; round++) {
        a.push(wrk(pair.workerd[0], 50, pair.workerd[1]));
        b.push(wrk(pair.wisp[0], 50, pair.wisp[1]));
      }
      const ra = median(a.map((r) => r.rps));
      const rb = median(b.map((r) => r.rps));
      const ratio = rb / ra;
      console.log(`\n${pair.what}:`);
      console.log(`  workerd ${ra.toFixed(0).padStart(6)} req/s, p50 ${median(a.map((r) => r.p50)).toFixed(3)} ms`);
      console.log(`  Wisp    ${rb.toFixed(0).padStart(6)} req/s, p50 ${median(b.map((r) => r.p50)).toFixed(3)} ms`);
      console.log(`  Wisp/workerd = ${ratio.toFixed(2)} (target >= ${pair.target}: ${ratio >= pair.target ? 'met' : 'NOT met'})`);
    }
  } finally {
    wisp.child.kill();
    workerd.child.kill();
    rmSync(work, { recursive: true, force: true });
  }
}

await main();
