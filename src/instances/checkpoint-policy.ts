// What an instance asked to keep through a crash (design §5.7): `checkpoint: "every-call"`, where
// each reply waits for a checkpoint taken after its call (checkpoint-gate.ts), and
// `checkpointEveryMs`, a periodic checkpoint while calls change it.
import { WispError } from '../errors.js';
import { CheckpointGate } from './checkpoint-gate.js';
import type { MethodReport } from './instance-calls.js';
import type { LiveInstance } from './live-instances.js';

/**
 * Sets up the checkpoints `live` asked for, while its thread runs. `commit` checkpoints it and
 * stores the record naming the checkpoint; the periodic timer stops with the thread (stopThread).
 */
export function keepDurable(live: LiveInstance, commit: () => Promise<void>, log: (message: string) => void): void {
  const { record } = live;
  if (record.durability !== 'every-call' && !record.checkpointEveryMs) return;
  live.dirty = false;
  live.gate = new CheckpointGate(async () => {
    live.dirty = false;
    await commit();
  });
  if (!record.checkpointEveryMs) return;
  live.periodic = setInterval(() => {
    if (!live.dirty || live.suspending || !live.thread) return;
    live.gate!.commit().catch((err: unknown) => log(`instance ${record.id}: periodic checkpoint failed: ${String(err)}`));
  }, record.checkpointEveryMs);
  live.periodic.unref();
}

/**
 * A call's report, once what the instance asked for after a call is done: with `every-call`, it
 * waits for the checkpoint to commit, and a checkpoint that fails fails the call (its effects may
 * not survive a crash).
 */
export async function afterCall(live: LiveInstance, report: MethodReport): Promise<MethodReport> {
  live.dirty = true;
  if (live.record.durability !== 'every-call' || !live.gate) return report;
  try {
    await live.gate.commit();
    return report;
  } catch (err) {
    if (!(err instanceof WispError)) throw err;
    return { ok: false, error: new WispError(err.code, `the call ran, but its checkpoint was not committed, so its effects may not survive a crash: ${err.message}`, { ...err.extensions }), logs: report.logs };
  }
}
