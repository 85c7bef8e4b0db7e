#!/usr/bin/env node
// Before the tests: makes sure the programs some tests start are installed: redis-server, for the
// Redis half of the storage tests and cluster mode (each test file starts its own server on a
// free port; see test/helpers/redis.ts), and chromium, for the dashboard's browser tests
// (test/helpers/browser.ts). As root on Debian it installs what is missing in one apt-get, as the
// benchmarks install wrk; otherwise it says in one loud line what to run, and those tests skip.
// Only Node builtins: runs before npm ci.
import { execSync } from 'node:child_process';

const has = (command) => {
  try {
    execSync(`command -v ${command}`, { stdio: 'ignore', shell: '/bin/sh' });
    return true;
  } catch {
    return false;
  }
};

const TOOLS = [
  { command: 'redis-server', apt: 'redis-server', for: 'the Redis storage and cluster tests' },
  { command: 'chromium', apt: 'chromium', for: "the dashboard's browser tests" },
];

const missing = TOOLS.filter((tool) => !has(tool.command));
if (missing.length > 0) {
  const packages = missing.map((tool) => tool.apt).join(' ');
  if (process.getuid?.() === 0 && has('apt-get')) {
    console.error(`wisp: installing ${packages} (apt-get install -y ${packages}) for ${missing.map((tool) => tool.for).join(' and ')}`);
    execSync(`apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq ${packages} >/dev/null`, { stdio: 'inherit', shell: '/bin/sh' });
  } else {
    for (const tool of missing) console.error(`\n*** wisp: ${tool.command} is not installed: ${tool.for} will be SKIPPED. Install it with: sudo apt-get install -y ${tool.apt} ***\n`);
  }
}
