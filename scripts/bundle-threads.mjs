#!/usr/bin/env node
// Bundles the instance thread's entry (compiled by tsc to dist/) into one CommonJS file. An
// instance starts a thread of its own, and loading one file instead of an ESM module graph takes
// several milliseconds off every instance creation (bench/instances.mjs measures it).
import { build } from 'esbuild';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
await build({
  absWorkingDir: root,
  entryPoints: ['dist/runtime/instance-entry.js'],
  outfile: 'dist/runtime/instance-entry.cjs',
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  logLevel: 'warning',
});
