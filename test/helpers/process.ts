// Runs Wisp as a real process, to test restarts and SIGKILL: the gateway process itself
// (dist/gateway-main.js), or with `supervised`, the supervisor that restarts it (dist/main.js).
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { contractViolations } from './contract.js';
import { redisSelection } from './redis-selection.js';
import { tempDir } from './temp-dir.js';
import type { Test } from 'tap';

const GATEWAY = fileURLToPath(new URL('../../dist/gateway-main.js', import.meta.url));
const SUPERVISOR = fileURLToPath(new URL('../../dist/main.js', import.meta.url));

export interface WispProcess {
  url: string;
  child: ChildProcess;
  /** Resolves with the exit code or signal. */
  exited: Promise<[number | null, NodeJS.Signals | null]>;
  /** Resolves with the first stdout line from now on that matches. */
  line(pattern: RegExp): Promise<string>;
}

/** The WISP_REDIS_* settings of redisSelection(), for a Wisp process. */
function redisEnvironment(dataDir: string): Record<string, string> {
  const { store } = redisSelection(dataDir);
  return store ? { WISP_REDIS_URL: store.redisUrl, WISP_REDIS_PREFIX: store.redisPrefix } : {};
}

/** Starts Wisp on a free port (WISP_PORT=0) and resolves once it logs its address. */
export async function startWispProcess(dataDir: string, env: Record<string, string> = {}, options: { supervised?: boolean } = {}): Promise<WispProcess> {
  const child = spawn(process.execPath, [options.supervised ? SUPERVISOR : GATEWAY], {
    env: { PATH: process.env.PATH ?? '', WISP_PORT: '0', WISP_DATA_DIR: dataDir, ...redisEnvironment(dataDir), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = once(child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
  const lines = createInterface({ input: child.stdout! });
  let stderr = '';
  child.stderr!.on('data', (chunk) => (stderr += chunk));
  const url = await new Promise<string>((resolve, reject) => {
    lines.on('line', (line) => {
      const match = /Wisp listening on (http:\/\/[^\s]+)/.exec(line);
      if (match) resolve(match[1]!);
    });
    exited.then(([code]) => reject(new Error(`wisp exited with ${code} before listening: ${stderr}`)));
  });
  const line = (pattern: RegExp) =>
    new Promise<string>((resolve) => {
      const listener = (text: string) => {
        if (!pattern.test(text)) return;
        lines.off('line', listener);
        resolve(text);
      };
      lines.on('line', listener);
    });
  return { url, child, exited, line };
}

/**
 * A Wisp process with `config` (a file in a temp dir, WISP_CONFIG), killed when the test ends;
 * with the data dir and environment to start it again on the same data.
 */
export async function startConfiguredWisp(t: Test, config: Record<string, unknown>): Promise<{ wisp: WispProcess; dataDir: string; env: Record<string, string> }> {
  const dir = tempDir();
  const file = join(dir, 'wisp.json');
  writeFileSync(file, JSON.stringify(config));
  const env = { WISP_CONFIG: file };
  const dataDir = join(dir, 'data');
  const wisp = await startWispProcess(dataDir, env);
  t.teardown(() => wisp.child.kill('SIGKILL'));
  return { wisp, dataDir, env };
}

/** One request to a Wisp process: a string body is code to deploy, anything else JSON. */
export async function send(url: string, method: string, path: string, body?: unknown): Promise<{ status: number; json: any }> {
  const res = await fetch(`${url}${path}`, {
    method,
    ...(body === undefined ? {} : { headers: { 'content-type': typeof body === 'string' ? 'application/typescript' : 'application/json' }, body: typeof body === 'string' ? body : JSON.stringify(body) }),
  });
  const text = await res.text();
  // Held to openapi.yaml like every app.inject answer (contract.ts); a break fails the test.
  const violations = contractViolations({ method, path: path.split('?')[0]!, status: res.status, contentType: res.headers.get('content-type') ?? undefined, body: text });
  if (violations.length > 0) throw new Error(`response contract (openapi.yaml): ${violations.join('; ')}`);
  return { status: res.status, json: text ? JSON.parse(text) : null };
}
