// Batches as the API shows them: the record with its members counted by status, ISO times, and
// (when asked) the members' outcomes in input order.
import type { StatusCounts } from '../store/batch-store.js';
import type { BatchRecord, InvocationError, InvocationRecord, InvocationStatus } from '../store/records.js';
import { isFinalStatus } from './invocation-record.js';
import { plainResult } from './json-text.js';

/** `running` while a member is not final; then `completed`, or `cancelled` after a DELETE. */
export type BatchStatus = 'running' | 'completed' | 'cancelled';

export interface BatchView {
  id: string;
  function: string;
  version: number;
  size: number;
  status: BatchStatus;
  counts: StatusCounts;
  idempotencyKey: string | null;
  callback: { url: string; status: string; attempts: number; lastError: string | null } | null;
  createdAt: string;
  finishedAt: string | null;
}

/** One member's outcome, as results and the event stream show it. */
export interface MemberResult {
  index: number;
  id: string;
  status: InvocationStatus;
  result: unknown;
  error: InvocationError | null;
  attempts: number;
}

const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());

/** How many members are final. */
export const finalCount = (counts: StatusCounts): number => counts.succeeded + counts.failed + counts.cancelled;

export function batchStatus(batch: BatchRecord, counts: StatusCounts): BatchStatus {
  if (finalCount(counts) < batch.size) return 'running';
  return batch.cancelRequested ? 'cancelled' : 'completed';
}

export function batchView(batch: BatchRecord, counts: StatusCounts): BatchView {
  return {
    id: batch.id,
    function: batch.function,
    version: batch.version,
    size: batch.size,
    status: batchStatus(batch, counts),
    counts,
    idempotencyKey: batch.idempotencyKey,
    callback: batch.callback && { url: batch.callback.url, status: batch.callback.status, attempts: batch.callback.attempts, lastError: batch.callback.lastError },
    createdAt: iso(batch.createdAt)!,
    finishedAt: iso(batch.finishedAt),
  };
}

export function memberResult(record: InvocationRecord): MemberResult {
  return {
    index: record.index!,
    id: record.id,
    status: record.status,
    result: isFinalStatus(record.status) ? (plainResult(record.result) ?? null) : null,
    error: record.error,
    attempts: record.attempts,
  };
}
