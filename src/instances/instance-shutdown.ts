// Closing the instances at shutdown: each one not in a group is checkpointed (groups checkpoint as
// a whole), so that it comes back on the next start, then stopped. Closing is bounded: at the
// shutdown deadline, every instance still busy (a call running or queued, a checkpoint not
// finished, its own or its group's) has its thread stopped and keeps its last checkpoint, so that
// one stuck instance cannot hold the shutdown up.
import type { KeyedMutex } from '../common/keyed-mutex.js';
import type { InstanceThread } from '../runtime/instance-thread.js';
import type { InstanceStore } from '../store/instance-store.js';
import type { InstanceRecord } from '../store/records.js';
import { stopThread, type LiveInstance, type LiveInstances } from './live-instances.js';

/**
 * How long a checkpoint may take once the shutdown deadline has passed. By then every busy
 * instance has been stopped, so what is left is idle and its checkpoint starts at once.
 */
const LATE_CHECKPOINT_MS = 1000;

export interface InstanceShutdownOptions {
  instances: LiveInstances;
  /** The instance manager's, under which each instance's mutations run. */
  mutex: KeyedMutex;
  /** Takes the instance's checkpoint into its record, within `timeoutMs` (undefined: as configured). */
  checkpoint: (live: LiveInstance, thread: InstanceThread, timeoutMs: number | undefined) => Promise<void>;
  store: InstanceStore;
  log: (message: string) => void;
  /** The deadline of a close() that was given none (see closeBy). */
  checkpointTimeoutMs: number;
}

export class InstanceShutdown {
  readonly #o: InstanceShutdownOptions;
  /** Armed by closeBy(): stops busy instances at the shutdown deadline. */
  #deadline: NodeJS.Timeout | undefined;
  #pastDeadline = false;
  readonly #stoppedAtDeadline = new WeakSet<LiveInstance>();

  constructor(options: InstanceShutdownOptions) {
    this.#o = options;
  }

  /** Sets the shutdown deadline to `deadlineAt`, replacing one set before. */
  closeBy(deadlineAt: number): void {
    clearTimeout(this.#deadline);
    this.#deadline = setTimeout(() => this.#deadlinePassed(), Math.max(0, deadlineAt - Date.now()));
    this.#deadline.unref();
  }

  /** Checkpoints every running instance not in a group, then stops it. */
  async close(): Promise<void> {
    // Without a shutdown deadline, close() is bounded all the same.
    if (this.#deadline === undefined) this.closeBy(Date.now() + this.#o.checkpointTimeoutMs);
    await Promise.all(
      [...this.#o.instances.values()].map((live) =>
        this.#o.mutex.run(live.record.id, async () => {
          if (!live.thread || live.record.group !== null) return; // groups checkpoint as a whole
          try {
            await this.#o.checkpoint(live, live.thread, this.checkpointTimeout());
            await this.#o.store.save(live.record);
          } catch (err) {
            // One stopped at the deadline has been logged as such.
            if (!this.#stoppedAtDeadline.has(live)) this.#o.log(`instance ${live.record.id} not checkpointed at shutdown (${(err as Error).message}); ${keeps(live.record)}`);
          }
          await stopThread(live);
        }),
      ),
    );
    clearTimeout(this.#deadline);
  }

  /** A checkpoint's timeout: as configured (undefined), and short once the deadline has passed. */
  checkpointTimeout(): number | undefined {
    return this.#pastDeadline ? LATE_CHECKPOINT_MS : undefined;
  }

  #deadlinePassed(): void {
    this.#pastDeadline = true;
    for (const live of this.#o.instances.values()) {
      if (!live.thread?.busy) continue;
      this.#o.log(`instance ${live.record.id} was still busy at the shutdown deadline: its thread was stopped; ${keeps(live.record)}`);
      this.#stoppedAtDeadline.add(live);
      void stopThread(live);
    }
  }
}

/** What an instance stopped without a new checkpoint comes back from at the next start. */
function keeps(record: InstanceRecord): string {
  return record.checkpointedAt !== null ? `it keeps its checkpoint of ${new Date(record.checkpointedAt).toISOString()}` : 'it has no checkpoint: its constructor runs again at the next start';
}
