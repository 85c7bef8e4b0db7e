#!/usr/bin/env node
// npm run fuzz [-- --count N --seed S]: the fuzz test of CI, for longer and with a fresh seed
// (printed, so a failure can be replayed with the same one).
import { spawnSync } from 'node:child_process';
import { parseArgs } from 'node:util';

const { values } = parseArgs({ options: { count: { type: 'string', default: '50000' }, seed: { type: 'string' } } });
const seed = values.seed ?? String(Math.floor(Math.random() * 2 ** 31));
console.log(`fuzzing with WISP_FUZZ_SEED=${seed} WISP_FUZZ_COUNT=${values.count}`);
const typecheck = spawnSync('npx', ['tsc', '-p', 'test/tsconfig.json'], { stdio: 'inherit' });
if (typecheck.status !== 0) process.exit(typecheck.status ?? 1);
const run = spawnSync('npx', ['tap', 'test/security/fuzz.test.ts', '--disable-coverage', '--timeout', '0', '-R', 'terse'], {
  stdio: 'inherit',
  env: { ...process.env, WISP_FUZZ_SEED: seed, WISP_FUZZ_COUNT: values.count },
});
process.exit(run.status ?? 1);
