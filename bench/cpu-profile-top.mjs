#!/usr/bin/env node
// Summarizes a V8 .cpuprofile (from node --cpu-prof): self time by function, and by where the
// code lives (Wisp, fastify, piscina, node internals, ...), as a share of the samples that were
// not idle. Usage: node bench/cpu-profile-top.mjs FILE.cpuprofile [rows]
import { readFileSync } from 'node:fs';

const [file, rowsArg] = process.argv.slice(2);
if (!file) {
  console.error('usage: node bench/cpu-profile-top.mjs FILE.cpuprofile [rows]');
  process.exit(2);
}
const profile = JSON.parse(readFileSync(file, 'utf8'));
const rows = Number(rowsArg ?? 25);
const byId = new Map(profile.nodes.map((node) => [node.id, node]));
const selfUs = new Map();
const deltas = profile.timeDeltas;
profile.samples.forEach((id, i) => selfUs.set(id, (selfUs.get(id) ?? 0) + (deltas[i + 1] ?? 0)));

/** Where a frame's code lives, for the coarse table. */
function area(url) {
  if (!url) return '(native / V8)';
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (pkg) return pkg[1];
  if (url.startsWith('node:')) return 'node internals';
  if (/\/dist\//.test(url)) return 'wisp';
  return url.split('/').pop();
}

const functions = new Map();
const areas = new Map();
let total = 0;
let idle = 0;
for (const [id, us] of selfUs) {
  const { callFrame } = byId.get(id);
  const name = callFrame.functionName || '(anonymous)';
  if (name === '(idle)') {
    idle += us;
    continue;
  }
  total += us;
  const where = area(callFrame.url);
  const key = `${name}  ${callFrame.url.split('/').slice(-2).join('/')}:${callFrame.lineNumber + 1}`;
  functions.set(key, (functions.get(key) ?? 0) + us);
  areas.set(where, (areas.get(where) ?? 0) + us);
}
const pct = (us) => `${((100 * us) / total).toFixed(1).padStart(5)} %`;
console.log(`${file}: ${(total / 1000).toFixed(0)} ms busy, ${(idle / 1000).toFixed(0)} ms idle (${((100 * idle) / (idle + total)).toFixed(0)} % idle)\n`);
console.log('by area:');
for (const [where, us] of [...areas].sort((a, b) => b[1] - a[1]).slice(0, 12)) console.log(`  ${pct(us)}  ${where}`);
console.log('\nby function (self time):');
for (const [key, us] of [...functions].sort((a, b) => b[1] - a[1]).slice(0, rows)) console.log(`  ${pct(us)}  ${key}`);
