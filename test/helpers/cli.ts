// Runs the real `wisp` executable (dist/cli/main.js) as a child process: its exit code and
// what it printed, with stdin fed when given.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import type { Test } from 'tap';
import { startWispProcess } from './process.js';
import { tempDir } from './temp-dir.js';

export const WISP_CLI = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url));

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

export async function runWisp(args: string[], env: Record<string, string> = {}, options: { stdin?: string; cwd?: string } = {}): Promise<CliRun> {
  const child = spawn(process.execPath, [WISP_CLI, ...args], {
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: [options.stdin === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
    ...(options.cwd ? { cwd: options.cwd } : {}),
  });
  if (options.stdin !== undefined) child.stdin!.end(options.stdin);
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (chunk) => (stdout += chunk));
  child.stderr!.on('data', (chunk) => (stderr += chunk));
  const [code] = (await once(child, 'exit')) as [number | null];
  return { code, stdout, stderr };
}

/** A real Wisp process for one test, and `run` to drive the executable at it from a temp dir. */
export async function startCliWisp(t: Test) {
  const wisp = await startWispProcess(tempDir());
  t.teardown(() => void wisp.child.kill('SIGKILL'));
  const dir = tempDir();
  const env = { WISP_URL: wisp.url };
  const run = (...args: string[]) => runWisp(args, env, { cwd: dir });
  return { wisp, dir, env, run };
}
