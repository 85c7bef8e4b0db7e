// Batches (records.ts BatchRecord) and their members, which are ordinary invocation records kept
// by the invocation store: a batch and all its members are stored in one transaction (SQLite) or
// one script (Redis), so a batch is acknowledged whole or not at all. Implementations:
// sqlite-batch-store.ts and redis-batch-store.ts, held to test/store/conformance/batch-store.ts.
import type { BatchRecord, CallbackState, InvocationRecord, InvocationStatus } from './records.js';

/** A change to a batch record, made the same way on every backend: whether it changed anything. */
export type BatchChange = (batch: BatchRecord) => boolean;

export interface SubmittedBatch {
  batch: BatchRecord;
  /** A batch with the same idempotency key was there already; `batch` is that one, and nothing was written. */
  existed: boolean;
}

export type StatusCounts = Record<InvocationStatus, number>;

export interface BatchStore {
  /** Stores the batch and its members (queued, each with batchId and index) at once. */
  submit(batch: BatchRecord, members: readonly InvocationRecord[]): Promise<SubmittedBatch>;
  get(id: string): Promise<BatchRecord | undefined>;
  /** Members from index `from` on, in input order, at most `limit`. */
  members(id: string, from: number, limit: number): Promise<InvocationRecord[]>;
  /** How many members are in each status now. */
  counts(id: string): Promise<StatusCounts>;
  /** Marks the batch cancelled (its waiting members are cancelled one by one by the caller). */
  markCancelled(id: string): Promise<BatchRecord | undefined>;
  /**
   * Marks the batch finished at `now` unless it is already: of several nodes that find it
   * complete at once, exactly one gets the record back (and sends its callback).
   */
  finish(id: string, now: number): Promise<BatchRecord | undefined>;
  /** Stores the callback's delivery state. */
  saveCallback(id: string, state: CallbackState): Promise<void>;
  /** Batches not finished yet, or with a callback still pending: what a restart looks at again. */
  open(limit: number): Promise<BatchRecord[]>;
  /** Deletes finished batches older than `time` whose callback is not pending; returns how many. */
  purgeFinishedBefore(time: number): Promise<number>;
}

export const noCounts = (): StatusCounts => ({ queued: 0, running: 0, retrying: 0, succeeded: 0, failed: 0, cancelled: 0 });

/** The idempotency key's scope for a batch: its function (a batch key never meets a single submission's). */
export const batchScope = (batch: BatchRecord): string => `batch:${batch.function}`;

/** Whether the batch's callback is still to be delivered (1) or not (0), as both backends index it. */
export const callbackPending = (batch: BatchRecord): number => (batch.callback?.status === 'pending' ? 1 : 0);

export const markedCancelled: BatchChange = (batch) => {
  batch.cancelRequested = true;
  return true;
};

/** Finished at `now`, unless it is already: the change that exactly one finisher makes. */
export const finishedAt =
  (now: number): BatchChange =>
  (batch) => {
    if (batch.finishedAt !== null) return false;
    batch.finishedAt = now;
    return true;
  };

export const withCallback =
  (state: CallbackState): BatchChange =>
  (batch) => {
    batch.callback = state;
    return true;
  };

/** The changes every backend makes the same way, through its own read-change-write (`change`). */
export abstract class BatchChanges {
  /** Reads batch `id`, applies `change`, and writes it if it changed; yields it then. */
  protected abstract change(id: string, change: BatchChange): Promise<BatchRecord | undefined>;

  markCancelled(id: string): Promise<BatchRecord | undefined> {
    return this.change(id, markedCancelled);
  }

  finish(id: string, now: number): Promise<BatchRecord | undefined> {
    return this.change(id, finishedAt(now));
  }

  async saveCallback(id: string, state: CallbackState): Promise<void> {
    await this.change(id, withCallback(state));
  }
}
