// Batches: one request maps a function over many inputs. Every member is an ordinary
// asynchronous invocation (retries, logs, call tree, cancel), stored with the batch in one
// transaction before the 202; a batch is read as counts by status and, page by page, as its
// members' outcomes in input order. Waiting on one long-polls until every member is final.
import { createHash } from 'node:crypto';
import type { Clock, Timer } from '../common/clock.js';
import { timeOrderedId } from '../common/time-ordered-id.js';
import { WispError } from '../errors.js';
import type { BatchStore } from '../store/batch-store.js';
import { isWaitingStatus } from '../store/invocation-store.js';
import type { BatchRecord, InvocationRecord } from '../store/records.js';
import type { BatchCompletion } from './batch-completion.js';
import { batchView, finalCount, memberResult, type BatchView, type MemberResult } from './batch-record.js';
import type { Dispatch } from './dispatch.js';
import type { InvocationEvents } from './invocation-events.js';
import { isFinal, newRecord } from './invocation-record.js';
import type { Invocations } from './invocations.js';

export interface BatchSubmit {
  function: string;
  version?: number;
  inputs: unknown[];
  idempotencyKey?: string;
  callbackUrl?: string;
}

export interface BatchesOptions {
  store: BatchStore;
  invocations: Invocations;
  dispatcher: Dispatch;
  events: InvocationEvents;
  clock: Clock;
  /** The most inputs one batch may have. */
  maxSize: number;
  /** Marks batches finished and sends their callbacks. */
  completion: BatchCompletion;
  /** Finished batches older than this are purged (as their members are). */
  retentionMs: number;
  log: (message: string) => void;
}

/** Members cancelled at once by a DELETE. */
const CANCEL_AT_ONCE = 64;
/** A wait looks at the counts again at least this often, in case a change relayed from another node was missed. */
const RECOUNT_MS = 1000;
/** ...and at most this often while members finish, so that a big batch is not counted per member. */
const RECOUNT_MIN_MS = 100;
const PURGE_EVERY_MS = 3_600_000;
/** Open batches a restart looks at, at most; their members are read this many at a time. */
const RECOVER_LIMIT = 10_000;
const REQUEUE_PAGE = 1000;

export class Batches {
  readonly #o: BatchesOptions;
  #purgeTimer: Timer | undefined;
  /** Members being queued after their batch was acknowledged. */
  readonly #queueing = new Set<Promise<void>>();

  constructor(options: BatchesOptions) {
    this.#o = options;
  }

  /**
   * After a restart: the waiting members of open batches are queued again (a node may have died
   * between a batch's 202 and its jobs; queueing one twice is a no-op), batches that completed
   * meanwhile are finished, callbacks go out, old batches are purged.
   */
  async recover(): Promise<void> {
    const open = await this.#o.store.open(RECOVER_LIMIT);
    for (const batch of open) {
      if (batch.finishedAt !== null) continue;
      for (let from = 0; from < batch.size; from += REQUEUE_PAGE) {
        const waiting = (await this.#o.store.members(batch.id, from, REQUEUE_PAGE)).filter((member) => isWaitingStatus(member.status));
        await this.#o.dispatcher.queuedMany(waiting);
      }
    }
    this.#o.completion.recover(open);
    await this.#purge();
  }

  async close(): Promise<void> {
    this.#purgeTimer?.cancel();
    await Promise.allSettled([...this.#queueing]);
    await this.#o.completion.close();
  }

  /**
   * Hands members to the dispatcher without holding up the 202: they are durable already, and
   * on Redis adding 10,000 BullMQ jobs costs more than storing the batch (1.5 s against 0.06 s).
   * If it fails, or Wisp dies first, the dispatcher's sweep and the next start queue them.
   */
  #queueSoon(members: readonly InvocationRecord[]): void {
    // On the next turn: building 10,000 BullMQ jobs is synchronous work the 202 need not wait for.
    const queueing = new Promise((resolve) => setImmediate(resolve)).then(() => this.#o.dispatcher.queuedMany(members)).then(
      () => undefined,
      (err: unknown) => this.#o.log(`batch of ${members.length}: cannot queue its members now (${String(err)}); the dispatcher's sweep and the next start will`),
    );
    this.#queueing.add(queueing);
    void queueing.finally(() => this.#queueing.delete(queueing));
  }

  #purge(): Promise<void> {
    this.#purgeTimer = this.#o.clock.schedule(() => this.#purge(), Math.min(PURGE_EVERY_MS, this.#o.retentionMs));
    return this.#o.store.purgeFinishedBefore(this.#o.clock.now() - this.#o.retentionMs).then(
      () => undefined,
      (err: unknown) => this.#o.log(`cannot purge old batches: ${String(err)}`),
    );
  }

  /** Aborted when Wisp begins to shut down: long-polls and event streams end (see Invocations.stopWaiting). */
  get stopWaiting(): AbortSignal {
    return this.#o.invocations.stopWaiting;
  }

  /** Accepts a batch once it and all its members are durably recorded. */
  async submit(request: BatchSubmit): Promise<{ batch: BatchView; existed: boolean }> {
    const { inputs } = request;
    if (inputs.length === 0) throw new WispError('INVALID_REQUEST', 'a batch needs at least one input: send {"inputs": [...]} or one JSON input per line');
    if (inputs.length > this.#o.maxSize) {
      throw new WispError('BATCH_TOO_LARGE', `a batch may have at most ${this.#o.maxSize} inputs (invocations.maxBatchSize); this one has ${inputs.length}: split it`);
    }
    const version = await this.#o.invocations.handlerVersion(request.function, request.version);
    const now = this.#o.clock.now();
    const requestHash = request.idempotencyKey === undefined ? null : createHash('sha256').update(JSON.stringify([version.version, inputs])).digest('base64url');
    const batch: BatchRecord = {
      id: timeOrderedId(),
      function: version.name,
      version: version.version,
      size: inputs.length,
      idempotencyKey: request.idempotencyKey ?? null,
      requestHash,
      callback: request.callbackUrl ? { url: request.callbackUrl, status: 'pending', attempts: 0, nextAt: null, lastError: null } : null,
      cancelRequested: false,
      createdAt: now,
      finishedAt: null,
    };
    const members = inputs.map((input, index): InvocationRecord => ({
      ...newRecord({
        id: timeOrderedId(),
        function: version.name,
        version: version.version,
        mode: 'async',
        input: input ?? null,
        maxAttempts: 1 + version.config.retries,
        maxAgeMs: version.config.maxAgeMs,
        now,
      }),
      batchId: batch.id,
      index,
    }));
    const { batch: stored, existed } = await this.#o.store.submit(batch, members);
    if (existed && stored.requestHash !== requestHash) {
      throw new WispError('IDEMPOTENCY_KEY_REUSED', `Idempotency-Key "${request.idempotencyKey}" was used for batch ${stored.id} with a different request; use a new key for a new batch`, {
        batchId: stored.id,
      });
    }
    // A replay queues its waiting members again: the node that stored it may have died before it queued them.
    const waiting = existed ? (await this.#o.store.members(stored.id, 0, stored.size)).filter((member) => isWaitingStatus(member.status)) : members;
    this.#queueSoon(waiting);
    return { batch: batchView(stored, await this.#o.store.counts(stored.id)), existed };
  }

  async get(id: string): Promise<BatchView> {
    const batch = await this.#batch(id);
    const counts = await this.#o.store.counts(id);
    const complete = batch.finishedAt === null && finalCount(counts) === batch.size;
    return batchView(complete ? await this.#o.completion.finishNow(batch) : batch, counts);
  }

  /** Members from index `from` on, at most `limit`, with where the next page starts (null after the last). */
  async results(id: string, from: number, limit: number): Promise<{ results: MemberResult[]; nextCursor: string | null }> {
    const batch = await this.#batch(id);
    const members = await this.#o.store.members(id, from, limit);
    const next = from + limit;
    return { results: members.map(memberResult), nextCursor: members.length === limit && next < batch.size ? String(next) : null };
  }

  /** Resolves when every member is final, or after `ms` (or when `signal` aborts) with the batch as it is then. */
  async wait(id: string, ms: number, signal?: AbortSignal): Promise<BatchView> {
    const deadline = this.#o.clock.now() + ms;
    let changed = false;
    let wake = (): void => undefined;
    const unsubscribe = this.#o.events.subscribeBatch(id, (member) => {
      if (!isFinal(member)) return;
      changed = true;
      wake();
    });
    try {
      for (;;) {
        const view = await this.get(id);
        const left = deadline - this.#o.clock.now();
        if (view.status !== 'running' || left <= 0 || signal?.aborted || this.#o.invocations.stopWaiting.aborted) return view;
        await pause(Math.min(left, RECOUNT_MIN_MS));
        if (!changed) {
          await new Promise<void>((resolve) => {
            const done = () => {
              clearTimeout(timer);
              signal?.removeEventListener('abort', done);
              this.#o.invocations.stopWaiting.removeEventListener('abort', done);
              resolve();
            };
            const timer = setTimeout(done, Math.min(deadline - this.#o.clock.now(), RECOUNT_MS));
            signal?.addEventListener('abort', done, { once: true });
            this.#o.invocations.stopWaiting.addEventListener('abort', done, { once: true });
            wake = done;
          });
        }
        changed = false;
        wake = () => undefined;
      }
    } finally {
      unsubscribe();
    }
  }

  /** Cancels every member not final yet (running ones stop as a cancelled invocation does); the batch ends `cancelled`. */
  async cancel(id: string): Promise<BatchView> {
    await this.#batch(id);
    const batch = await this.#o.store.markCancelled(id);
    if (!batch) throw notFound(id);
    for (let from = 0; from < batch.size; from += CANCEL_AT_ONCE) {
      const members = (await this.#o.store.members(id, from, CANCEL_AT_ONCE)).filter((member) => !isFinal(member));
      // One that ended meanwhile refuses the cancel (INVOCATION_FINISHED): it stays as it ended.
      await Promise.all(members.map((member) => this.#o.invocations.cancel(member.id).catch((err: unknown) => ignoreFinished(err))));
    }
    return this.get(id);
  }

  /** Its members' final outcomes so far, in input order, page by page (what an event stream sends first). */
  async *finalMembers(id: string, pageSize = 1000): AsyncGenerator<InvocationRecord> {
    const batch = await this.#batch(id);
    for (let from = 0; from < batch.size; from += pageSize) {
      for (const member of await this.#o.store.members(id, from, pageSize)) if (isFinal(member)) yield member;
    }
  }

  /** How many members are final now. */
  async finalCount(id: string): Promise<number> {
    return finalCount(await this.#o.store.counts(id));
  }

  /** Calls `listener` with each member of batch `id` that becomes final, until unsubscribed. */
  watchFinal(id: string, listener: (member: InvocationRecord) => void): () => void {
    return this.#o.events.subscribeBatch(id, (member) => {
      if (isFinal(member)) listener(member);
    });
  }

  async #batch(id: string): Promise<BatchRecord> {
    const batch = await this.#o.store.get(id);
    if (!batch) throw notFound(id);
    return batch;
  }
}

const pause = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));

function notFound(id: string): WispError {
  return new WispError('BATCH_NOT_FOUND', `no batch "${id}"; finished batches are kept for a limited time`);
}

function ignoreFinished(err: unknown): void {
  if (err instanceof WispError && (err.code === 'INVOCATION_FINISHED' || err.code === 'INVOCATION_NOT_FOUND')) return;
  throw err;
}
