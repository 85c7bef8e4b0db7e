#!/usr/bin/env node
// npm run test:redis: the HTTP-level suites that make sense on one node (deploy, invoke, async
// with retries and SIGKILL durability, instances, groups, triggers), run again with every Wisp
// on the Redis backend. Starts its own redis-server (free port, temp dir, appendonly with
// appendfsync always, the durability Wisp's acknowledgements rely on) and stops it after.
// Without redis-server it says so in one line and exits 0, as the Redis half of `npm test` does.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { once } from 'node:events';

export const SELECTION = ['test/gateway', 'test/invocations', 'test/instances', 'test/sockets', 'test/groups', 'test/triggers'];

if (spawnSync('sh', ['-c', 'command -v redis-server'], { stdio: 'ignore' }).status !== 0) {
  console.log('!!! redis-server is not installed (apt-get install -y redis-server): the suites on the Redis backend are NOT run');
  process.exit(0);
}

const server = createServer().listen(0, '127.0.0.1');
await once(server, 'listening');
const { port } = server.address();
await new Promise((resolve) => server.close(resolve));
const dir = mkdtempSync(join(tmpdir(), 'wisp-test-redis-'));
const redis = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--appendonly', 'yes', '--appendfsync', 'always', '--save', ''], {
  stdio: ['ignore', 'pipe', 'inherit'],
});
await new Promise((resolve, reject) => {
  redis.stdout.on('data', (chunk) => /Ready to accept connections/.test(String(chunk)) && resolve());
  redis.on('exit', (code) => reject(new Error(`redis-server exited with ${code}`)));
});
const tap = spawn('npx', ['tap', ...process.argv.slice(2), ...SELECTION], {
  stdio: 'inherit',
  env: { ...process.env, WISP_TEST_REDIS_URL: `redis://127.0.0.1:${port}` },
});
const [code] = await once(tap, 'exit');
redis.kill('SIGKILL');
rmSync(dir, { recursive: true, force: true });
process.exit(code ?? 1);
