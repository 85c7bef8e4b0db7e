// Invocation records: how they are made, how a failure is written into one, and how the API shows
// them (ISO times, no internals).
import type { WispError } from '../errors.js';
import { plainResult } from './json-text.js';
import { isWaitingStatus } from '../store/invocation-store.js';
import type { InvocationError, InvocationRecord, InvocationStatus } from '../store/records.js';

const FINAL_STATUSES: ReadonlySet<InvocationStatus> = new Set(['succeeded', 'failed', 'cancelled']);

export const isFinalStatus = (status: InvocationStatus): boolean => FINAL_STATUSES.has(status);

export const isFinal = (record: InvocationRecord): boolean => isFinalStatus(record.status);

/** What the API shows: the record with ISO times, and what runs when for the queue. */
export interface InvocationView {
  id: string;
  function: string;
  version: number;
  instance?: string;
  method?: string;
  mode: InvocationRecord['mode'];
  status: InvocationStatus;
  input?: unknown;
  result: unknown;
  error: InvocationError | null;
  attempts: number;
  maxAttempts: number;
  parentId: string | null;
  triggerId: string | null;
  /** A batch member's batch and its place in the batch's inputs. */
  batchId?: string;
  index?: number;
  idempotencyKey: string | null;
  callback: { url: string; status: string; attempts: number; lastError: string | null } | null;
  /** When a queued or retrying invocation runs next. */
  nextAttemptAt: string | null;
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
}

const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());

export function view(record: InvocationRecord): InvocationView {
  const waiting = isWaitingStatus(record.status);
  return {
    id: record.id,
    function: record.function,
    version: record.version,
    ...(record.instance === null ? {} : { instance: record.instance, method: record.method! }),
    mode: record.mode,
    status: record.status,
    // Synchronous records keep no input: they live in memory, and the caller sent it.
    ...(record.mode === 'sync' ? {} : { input: record.input }),
    result: plainResult(record.result) ?? null,
    error: record.error,
    attempts: record.attempts,
    maxAttempts: record.maxAttempts,
    parentId: record.parentId,
    triggerId: record.triggerId,
    ...(record.batchId === undefined ? {} : { batchId: record.batchId, index: record.index! }),
    idempotencyKey: record.idempotencyKey,
    callback: record.callback && {
      url: record.callback.url,
      status: record.callback.status,
      attempts: record.callback.attempts,
      lastError: record.callback.lastError,
    },
    nextAttemptAt: waiting ? iso(record.runAt) : null,
    createdAt: iso(record.createdAt)!,
    startedAt: iso(record.startedAt),
    finishedAt: iso(record.finishedAt),
  };
}

/** How a failure is kept in a record: its catalogue code, its detail, and the user's error. */
export function invocationError(err: WispError): InvocationError {
  const user = (err.extensions as { error?: InvocationError['error'] }).error;
  return { code: err.code, message: err.message, ...(user ? { error: user } : {}) };
}

export interface NewInvocation {
  id: string;
  function: string;
  version: number;
  mode: InvocationRecord['mode'];
  input: unknown;
  instance?: string | null;
  method?: string | null;
  maxAttempts: number;
  maxAgeMs: number;
  parentId?: string | null;
  triggerId?: string | null;
  idempotencyKey?: string | null;
  requestHash?: string | null;
  callbackUrl?: string | null;
  now: number;
}

export function newRecord(spec: NewInvocation): InvocationRecord {
  return {
    id: spec.id,
    function: spec.function,
    version: spec.version,
    instance: spec.instance ?? null,
    method: spec.method ?? null,
    mode: spec.mode,
    status: 'queued',
    input: spec.input,
    result: null,
    error: null,
    attempts: 0,
    maxAttempts: spec.maxAttempts,
    parentId: spec.parentId ?? null,
    triggerId: spec.triggerId ?? null,
    idempotencyKey: spec.idempotencyKey ?? null,
    requestHash: spec.requestHash ?? null,
    callback: spec.callbackUrl ? { url: spec.callbackUrl, status: 'pending', attempts: 0, nextAt: null, lastError: null } : null,
    runAt: spec.now,
    maxAgeMs: spec.maxAgeMs,
    createdAt: spec.now,
    startedAt: null,
    finishedAt: null,
  };
}

/** Ends a record: final status, result or error, finish time; a callback becomes due now. */
export function finish(record: InvocationRecord, status: InvocationStatus, now: number, outcome: { result?: unknown; error?: InvocationError }): void {
  record.status = status;
  record.result = outcome.result ?? null;
  record.error = outcome.error ?? null;
  record.finishedAt = now;
  if (record.callback) record.callback.nextAt = now;
}
