// Proof, on this machine, that an earlier incarnation of this node is gone: each incarnation
// writes its number and process id to the node's data dir. A node started again on that data dir
// (the supervisor restarting a crashed gateway) finds the one before it; if that process no
// longer exists, it cannot be answering for anything, and its instances may be taken back at
// once instead of after its lease. Any doubt (no file, another incarnation, the process alive or
// not ours to signal) means waiting for the lease, the safe side.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { processExists } from '../common/process-exists.js';

const FILE = 'incarnation.json';

export function recordIncarnation(dataDir: string, incarnation: number): void {
  writeFileSync(join(dataDir, FILE), JSON.stringify({ incarnation, pid: process.pid }), { mode: 0o600 });
}

/** Whether `incarnation` ran in a process of this machine that has exited. */
export function surelyGone(dataDir: string, incarnation: number): boolean {
  let kept: { incarnation?: unknown; pid?: unknown };
  try {
    kept = JSON.parse(readFileSync(join(dataDir, FILE), 'utf8')) as typeof kept;
  } catch {
    return false;
  }
  if (kept.incarnation !== incarnation || typeof kept.pid !== 'number' || kept.pid === process.pid) return false;
  return !processExists(kept.pid);
}
