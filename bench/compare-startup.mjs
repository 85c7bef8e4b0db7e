#!/usr/bin/env node
// Gateway start time of two builds side by side: `node bench/compare-startup.mjs OLD_DIR [NEW_DIR]`
// (each a checkout with dist/ built; NEW_DIR defaults to this one). Time from spawning
// dist/gateway-main.js on an empty data dir to its "Wisp listening" line, the builds taken in
// turn so that drift on a shared machine hits both alike. BENCH_ROUNDS (default 7).
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { median, root } from './lib.mjs';

const [oldDir, newDir = root] = process.argv.slice(2).map((dir) => resolve(dir));
if (!oldDir) throw new Error('usage: node bench/compare-startup.mjs OLD_DIR [NEW_DIR]');
const rounds = Number(process.env.BENCH_ROUNDS ?? 7);

function timeToListen(dir) {
  const dataDir = mkdtempSync(join(tmpdir(), 'wisp-startup-'));
  return new Promise((resolvePromise, reject) => {
    const started = performance.now();
    const child = spawn(process.execPath, [join(dir, 'dist', 'gateway-main.js')], {
      env: { PATH: process.env.PATH ?? '', WISP_PORT: '0', WISP_DATA_DIR: dataDir, WISP_LOG_LEVEL: 'info' },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    child.stdout.on('data', (chunk) => {
      if (!/Wisp listening/.test(String(chunk))) return;
      resolvePromise(performance.now() - started);
      child.kill('SIGKILL');
    });
    child.on('exit', () => rmSync(dataDir, { recursive: true, force: true }));
    child.on('error', reject);
  });
}

const times = { old: [], new: [] };
for (let i = 0; i < rounds; i++) {
  times.old.push(await timeToListen(oldDir));
  times.new.push(await timeToListen(newDir));
}
const oldMs = median(times.old);
const newMs = median(times.new);
console.log(`gateway start to listening, median of ${rounds}: old ${oldMs.toFixed(0)} ms, new ${newMs.toFixed(0)} ms, new/old ${(newMs / oldMs).toFixed(2)}`);
