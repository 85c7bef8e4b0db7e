// What `wisp cluster up` leaves behind for `status` and `down`: the processes it started (Redis
// when it started one, and each node), in DIR/cluster.json, and how to stop them.
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { processExists } from '../common/process-exists.js';
import { CliError } from './cli-error.js';

export interface LaunchedNode {
  id: string;
  url: string;
  port: number;
  pid: number;
  /** When the process started (see processStart): a pid reused by another process is not it. */
  start: string | null;
  dataDir: string;
  log: string;
}

export interface ClusterState {
  startedAt: string;
  /** The Redis the nodes share; `pid` when the launcher started it (and `down` stops it). */
  redis: { url: string; pid: number | null; start: string | null; log: string | null };
  nodes: LaunchedNode[];
}

export const stateFile = (dataDir: string) => join(dataDir, 'cluster.json');

export function writeState(dataDir: string, state: ClusterState): void {
  writeFileSync(stateFile(dataDir), `${JSON.stringify(state, null, 2)}\n`);
}

export function readState(dataDir: string): ClusterState {
  const file = stateFile(dataDir);
  if (!existsSync(file)) throw new CliError('NO_CLUSTER', `no cluster was started from ${dataDir} (there is no ${file}); start one with: wisp cluster up --data ${dataDir}`);
  return JSON.parse(readFileSync(file, 'utf8')) as ClusterState;
}

export function forgetState(dataDir: string): void {
  rmSync(stateFile(dataDir), { force: true });
}

/**
 * When process `pid` started, in clock ticks since boot (field 22 of /proc/PID/stat), as text; null
 * where there is no /proc. Kept with each pid so that, after a reboot or once the pid is reused,
 * `status` and `down` do not take another process for one of theirs.
 */
export function processStart(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) is in parentheses and may hold spaces: count from after it.
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19] ?? null;
  } catch {
    return null;
  }
}

/** Whether the process the launcher started as `pid` (at `start`) still runs. */
export function running(pid: number, start: string | null): boolean {
  if (!alive(pid)) return false;
  return start === null || processStart(pid) === start;
}

export const alive = processExists;

/**
 * Stops a process the launcher started (the leader of its own process group, so its children
 * go too): SIGTERM, which a Wisp node answers with a graceful shutdown, then SIGKILL after
 * `graceMs`. Resolves once it is gone.
 */
export async function stopProcess(pid: number, graceMs = 20_000): Promise<void> {
  const signal = (name: NodeJS.Signals) => {
    try {
      process.kill(-pid, name);
    } catch {
      try {
        process.kill(pid, name);
      } catch {
        // Gone already.
      }
    }
  };
  signal('SIGTERM');
  const deadline = Date.now() + graceMs;
  while (alive(pid)) {
    if (Date.now() > deadline) {
      signal('SIGKILL');
      break;
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** The last `count` lines of a log file ('' when there is none). */
export function lastLines(file: string, count = 10): string {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-count).join('\n');
  } catch {
    return '';
  }
}
