#!/usr/bin/env node
// Makes a checkout runnable: installs dependencies when node_modules is missing or older than
// package-lock.json, and compiles src/ to dist/ when dist is missing or older than any source.
// Only Node builtins here: this runs before anything is installed.
import { execSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const mtime = (path) => (existsSync(path) ? statSync(path).mtimeMs : 0);
const newest = (dir) =>
  readdirSync(dir, { withFileTypes: true }).reduce((max, entry) => {
    const path = join(dir, entry.name);
    return Math.max(max, entry.isDirectory() ? newest(path) : statSync(path).mtimeMs);
  }, 0);
const run = (command) => execSync(command, { cwd: root, stdio: 'inherit' });

const installed = join(root, 'node_modules', '.package-lock.json');
if (mtime(installed) < mtime(join(root, 'package-lock.json'))) {
  console.error('wisp: installing dependencies (npm ci)');
  run('npm ci --no-audit --no-fund');
}
const built = join(root, 'dist', 'main.js');
if (mtime(built) < Math.max(newest(join(root, 'src')), mtime(join(root, 'tsconfig.json')))) {
  console.error('wisp: compiling TypeScript');
  run('npm run build --silent');
}
