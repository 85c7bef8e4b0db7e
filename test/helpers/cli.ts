// Runs the real `wisp` executable (dist/cli/main.js) as a child process: its exit code and
// what it printed, with stdin fed when given.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';

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
