#!/usr/bin/env node
// Before the tests: makes sure redis-server is on the PATH, for the Redis half of the storage
// tests (each test file starts its own server on a free port; see test/helpers/redis.ts). As
// root on Debian it installs the package, as the benchmarks install wrk; otherwise it says in
// one loud line what to run, and those tests skip. Only Node builtins: runs before npm ci.
import { execSync } from 'node:child_process';

const has = (command) => {
  try {
    execSync(`command -v ${command}`, { stdio: 'ignore', shell: '/bin/sh' });
    return true;
  } catch {
    return false;
  }
};

if (!has('redis-server')) {
  const root = process.getuid?.() === 0;
  if (root && has('apt-get')) {
    console.error('wisp: installing redis-server (apt-get install -y redis-server) for the Redis storage tests');
    execSync('apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server >/dev/null', { stdio: 'inherit', shell: '/bin/sh' });
  } else {
    console.error('\n*** wisp: redis-server is not installed: the Redis storage tests will be SKIPPED. Install it with: sudo apt-get install -y redis-server ***\n');
  }
}
