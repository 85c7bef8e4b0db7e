// A real redis-server for a test file: its own free port and temp dir, append-only file with an
// fsync per write (appendfsync always), so "acknowledged" means on disk as it will in cluster
// mode. Stopped with the test; `restart()` brings it back on the same port and data, for tests of
// Wisp riding out a Redis outage. Without redis-server installed, the test is skipped loudly
// (scripts/ensure-test-tools.mjs installs it for `npm test` where it can).
import type { Test } from 'tap';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createServer, type AddressInfo } from 'node:net';
import { createInterface } from 'node:readline';
import { tempDir } from './temp-dir.js';

export interface RedisServer {
  url: string;
  port: number;
  /** Kills the server (SIGKILL: no shutdown save) and resolves once it is gone. */
  kill(): Promise<void>;
  /** Starts it again on the same port and directory. */
  restart(): Promise<void>;
  /** SIGSTOP: the server holds its connections but answers nothing, until resume(). */
  pause(): void;
  resume(): void;
}

export const redisInstalled = (): boolean => spawnSync('sh', ['-c', 'command -v redis-server'], { stdio: 'ignore' }).status === 0;

async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

function launch(port: number, dir: string): Promise<ChildProcess> {
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--appendonly', 'yes', '--appendfsync', 'always', '--save', '', '--daemonize', 'no', '--loglevel', 'notice'];
  const child = spawn('redis-server', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  return new Promise((resolve, reject) => {
    const lines = createInterface({ input: child.stdout! });
    lines.on('line', (line) => {
      output += `${line}\n`;
      if (/Ready to accept connections/.test(line)) resolve(child);
    });
    child.on('exit', (code) => reject(new Error(`redis-server exited with ${code} before it was ready:\n${output}`)));
  });
}

/** Starts a redis-server for `t`, or skips `t` (with the reason) when none is installed. */
export async function startRedis(t: Test): Promise<RedisServer | undefined> {
  if (!redisInstalled()) {
    // A plan of 0 with a reason is tap's "skipped".
    t.plan(0, 'redis-server is not installed (apt-get install -y redis-server): the Redis half of the storage tests is not run');
    return undefined;
  }
  const port = await freePort();
  const dir = tempDir();
  let child = await launch(port, dir);
  const kill = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = once(child, 'exit');
    child.kill('SIGKILL');
    await exited;
  };
  t.teardown(kill);
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    kill,
    restart: async () => {
      await kill();
      child = await launch(port, dir);
    },
    pause: () => void child.kill('SIGSTOP'),
    resume: () => void child.kill('SIGCONT'),
  };
}
