// The durable invocation records and the queue they form, as semantic operations that several
// nodes may call at once: a submission is stored once per idempotency key, due work is claimed
// with a lease that only one claimer wins, and an attempt's outcome is written only with a token
// that still holds that lease. Implementations: SQLite (sqlite-invocation-store.ts) and Redis
// (redis-invocation-store.ts), held to one conformance suite (test/store/conformance/).
import type { CallbackState, InvocationRecord, InvocationStatus, LogEntry } from './records.js';

export interface InvocationQuery {
  function?: string;
  status?: InvocationStatus;
  limit: number;
  /** Only invocations created before this one (the previous page's last id). */
  before?: string;
}

export interface Submitted {
  record: InvocationRecord;
  /**
   * An invocation with the same idempotency key, or with the same concurrency key still queued
   * or running (`pending`), was there already; `record` is that one, and nothing was stored.
   */
  existed: boolean;
  /** Set when `record` was found by its concurrency key (the submission's concurrencyKey). */
  pending?: true;
}

/** Who holds a claim, and for how long it holds without a renewal. */
export interface Lease {
  /** The claiming node's incarnation: `node/incarnation`. */
  owner: string;
  ms: number;
}

/** A claimed invocation, now `running`, and the token its outcome must be written with. */
export interface Claim {
  record: InvocationRecord;
  token: string;
}

/** What a cancel found: a waiting invocation is now cancelled; a running one is marked to stop. */
export type Cancelled =
  | { outcome: 'cancelled'; record: InvocationRecord }
  | { outcome: 'running'; record: InvocationRecord }
  | { outcome: 'final'; record: InvocationRecord };

export interface InvocationStore {
  /**
   * Stores a queued invocation; when its idempotency key is known in its scope, or its
   * concurrencyKey is held by an invocation not yet final, yields the stored one instead. A
   * concurrency key is held from submission until the invocation is final (a rerun does not
   * take it again), so of concurrent submissions with one key exactly one is stored.
   */
  submit(record: InvocationRecord): Promise<Submitted>;
  /** Stores a finished nested call of a durable invocation, with its logs. */
  recordFinished(record: InvocationRecord, logs: readonly LogEntry[]): Promise<void>;
  get(id: string): Promise<InvocationRecord | undefined>;
  logs(id: string): Promise<LogEntry[] | undefined>;
  /** Newest first. */
  list(query: InvocationQuery): Promise<InvocationRecord[]>;
  /** Oldest first. */
  children(parentId: string): Promise<InvocationRecord[]>;

  /** Queued or retrying invocations due at `now`, oldest first, of functions not in `skip`. Claims nothing. */
  due(now: number, limit: number, skip: readonly string[]): Promise<InvocationRecord[]>;
  /** When the next queued or retrying invocation falls due. */
  nextRunAt(): Promise<number | undefined>;
  /**
   * Claims those of `ids` that are still waiting and due: each becomes `running` with one more
   * attempt (and its first start time), leased to `lease.owner`. Of concurrent claimers of one
   * invocation exactly one gets it; the others' answers leave it out.
   */
  claim(ids: readonly string[], lease: Lease, now: number): Promise<Claim[]>;
  /** Extends the leases `tokens` still hold; yields the tokens that were renewed. */
  renew(tokens: readonly string[], lease: Lease, now: number): Promise<string[]>;
  /**
   * Writes the outcome of a claimed attempt (final, or waiting again) with its logs, and
   * releases the lease; false, writing nothing, when `token` no longer holds it.
   */
  settle(token: string, record: InvocationRecord, logs: readonly LogEntry[]): Promise<boolean>;
  /**
   * Takes over running invocations whose lease ran out, and those held by an earlier
   * incarnation of this node (the owner starts with `node/` and is not `lease.owner`): their
   * attempts were cut off. Each comes back claimed by `lease`, as it was stored.
   */
  reclaim(lease: Lease, node: string, now: number): Promise<Claim[]>;
  /** Cancels a waiting invocation (ending it with `record` made by `end`), or marks a running one to stop. */
  cancel(id: string, end: (record: InvocationRecord) => void): Promise<Cancelled | undefined>;
  /**
   * Runs a failed or cancelled invocation again: `change` turns the stored record into the new
   * waiting one. Yields it, or the stored record unchanged when it is not failed or cancelled.
   */
  rerun(id: string, change: (record: InvocationRecord) => void): Promise<{ rerun: boolean; record: InvocationRecord } | undefined>;

  /**
   * Claims callbacks due at `now`: each is pushed `leaseMs` into the future, so that no other
   * sender takes it while this delivery is out. Oldest due first.
   */
  claimCallbacks(now: number, limit: number, leaseMs: number): Promise<InvocationRecord[]>;
  /** When the next callback falls due. */
  nextCallbackAt(): Promise<number | undefined>;
  /**
   * Stores a callback's new delivery state, unless the invocation was run again since the
   * delivery began (its attempts are no longer `attempts`, or it is not final).
   */
  settleCallback(id: string, attempts: number, state: CallbackState): Promise<InvocationRecord | undefined>;

  /** Deletes final invocations that finished before `time` and have no callback left to deliver; returns how many. */
  purgeFinishedBefore(time: number): Promise<number>;
}

/** The idempotency key's scope: the trigger, the function, or the instance and method called. */
export function idempotencyScope(record: InvocationRecord): string {
  if (record.triggerId !== null) return `trigger:${record.triggerId}`;
  return record.instance === null ? `function:${record.function}` : `instance:${record.instance}:${record.method}`;
}

/** When the callback of a final invocation is next due; null when there is none to deliver. */
export function callbackAt(record: InvocationRecord): number | null {
  return record.callback?.status === 'pending' && record.finishedAt !== null ? record.callback.nextAt : null;
}

export const isWaitingStatus = (status: InvocationStatus): boolean => status === 'queued' || status === 'retrying';

/** Only a failed or cancelled invocation can be run again (rerun). */
export const canRerun = (status: InvocationStatus): boolean => status === 'failed' || status === 'cancelled';

/**
 * Whether a callback delivery begun when the invocation had made `attempts` attempts may still
 * store its outcome: the invocation is final and was not run again since (settleCallback).
 */
export const callbackStillDue = (record: InvocationRecord, attempts: number): boolean =>
  record.callback !== null && record.attempts === attempts && record.finishedAt !== null;

/** What a claim does to a record, on every backend. */
export function markClaimed(record: InvocationRecord, now: number): void {
  record.status = 'running';
  record.attempts += 1;
  record.startedAt ??= now;
}
