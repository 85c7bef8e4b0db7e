// Invocations as the API sees them: submit asynchronous ones (durably, with idempotency keys and
// callbacks), read any one (durable records first, then the in-memory record of synchronous and
// nested calls), wait on one, cancel, run again, read logs and call trees. The dispatcher runs the
// queue; the callback sender delivers results; this file ties them to the store.
import { createHash } from 'node:crypto';
import type { Clock, Timer } from '../common/clock.js';
import { timeOrderedId } from '../common/time-ordered-id.js';
import { WispError } from '../errors.js';
import type { InstanceRouter } from '../instances/instance-router.js';
import type { Registry } from '../registry/registry.js';
import { isWaitingStatus, type InvocationQuery, type InvocationStore } from '../store/invocation-store.js';
import type { InvocationRecord, LogEntry, VersionRecord } from '../store/records.js';
import { toRecord, type CallSummary } from './call-summary.js';
import type { CallbackSender } from './callback-sender.js';
import { concurrencyKey, pendingDetail } from './concurrency-key.js';
import { endCancelled } from './cut-off-attempts.js';
import type { Dispatch } from './dispatch.js';
import type { InvocationEvents } from './invocation-events.js';
import { isFinal, newRecord, view, type InvocationView } from './invocation-record.js';
import type { SyncHistory } from './sync-history.js';

export interface SubmitRequest {
  function: string;
  version?: number;
  input: unknown;
  /** Set for a method call on an instance; `function` is then ignored. */
  instance?: { id: string; method: string };
  idempotencyKey?: string;
  callbackUrl?: string;
  triggerId?: string;
  /** What tells a replay from a reuse of the idempotency key; by default the target and input. */
  requestHash?: string;
}

export interface InvocationsOptions {
  store: InvocationStore;
  history: SyncHistory;
  registry: Registry;
  instances: InstanceRouter;
  events: InvocationEvents;
  dispatcher: Dispatch;
  callbacks: CallbackSender;
  clock: Clock;
  /** Final records older than this are purged. */
  retentionMs: number;
  log: (message: string) => void;
  /** Tells the other nodes of a cluster to stop the attempt of a cancelled invocation (invocation-relay.ts). */
  cancelElsewhere?: (id: string) => void;
}

/** A call tree: an invocation and the ctx.invoke() calls it made, recursively. */
export type InvocationTree = InvocationView & { children: InvocationTree[] };

/** A call tree shows at most this many invocations. */
const MAX_TREE_NODES = 500;
const PURGE_EVERY_MS = 3_600_000;

export class Invocations {
  readonly #o: InvocationsOptions;
  readonly #stopWaiting = new AbortController();
  #purgeTimer: Timer | undefined;

  constructor(options: InvocationsOptions) {
    this.#o = options;
  }

  /**
   * Accepts an asynchronous invocation once it is durably recorded. `existed`: an idempotent
   * replay; `reused`: under the function's concurrencyControl, an equal pending one.
   */
  async submit(request: SubmitRequest): Promise<{ invocation: InvocationView; existed: boolean; reused?: true }> {
    const target = await this.#target(request);
    const config = target.version.config;
    // Only a replay under an idempotency key compares it: without one, no hash (a JSON text of
    // the input and a SHA-256 per submission, ~2 % of the gateway's time acknowledging).
    const requestHash =
      request.idempotencyKey === undefined
        ? null
        : (request.requestHash ??
          createHash('sha256')
            .update(JSON.stringify([target.version.version, request.instance?.method ?? null, request.input ?? null]))
            .digest('base64url'));
    const record = newRecord({
      id: timeOrderedId(),
      function: target.version.name,
      version: target.version.version,
      mode: 'async',
      input: request.input ?? null,
      instance: request.instance?.id ?? null,
      method: request.instance?.method ?? null,
      maxAttempts: 1 + config.retries,
      maxAgeMs: config.maxAgeMs,
      triggerId: request.triggerId ?? null,
      idempotencyKey: request.idempotencyKey ?? null,
      requestHash,
      callbackUrl: request.callbackUrl ?? null,
      now: this.#o.clock.now(),
    });
    // Method calls of instances are serialized by their instance already.
    const control = request.instance ? undefined : config.concurrencyControl;
    const key = concurrencyKey(record.function, control, record.input);
    if (key !== undefined) record.concurrencyKey = key;
    const { record: stored, existed, pending } = await this.#o.store.submit(record);
    if (pending) {
      if (control!.mode === 'reject') throw new WispError('INVOCATION_PENDING', pendingDetail(record.function, control!, stored.id, stored.status), { invocationId: stored.id });
      return { invocation: view(stored), existed: false, reused: true };
    }
    if (existed && stored.requestHash !== requestHash) {
      throw new WispError(
        'IDEMPOTENCY_KEY_REUSED',
        `Idempotency-Key "${request.idempotencyKey}" was used for invocation ${stored.id} with a different request; use a new key for a new request`,
        { invocationId: stored.id },
      );
    }
    // A replay of a waiting one is queued again too: its first node may have died before it was.
    if (!existed || isWaitingStatus(stored.status)) await this.#o.dispatcher.queued(stored);
    return { invocation: view(stored), existed };
  }

  /** The function version (and instance) a submission targets; fails now, not when it runs. */
  async #target(request: SubmitRequest): Promise<{ version: VersionRecord }> {
    if (!request.instance) return { version: await this.handlerVersion(request.function, request.version) };
    const instance = await this.#o.instances.get(request.instance.id);
    return { version: await this.#o.registry.resolveFresh(instance.function, instance.version) };
  }

  /** The version of a function an asynchronous submission runs (the active one unless named); it must have a handler. */
  async handlerVersion(name: string, version?: number): Promise<VersionRecord> {
    const found = this.#o.registry.find(name, version) ?? (await this.#o.registry.resolveFresh(name, version));
    if (!found.exports.handler) {
      throw new WispError('NO_JSON_HANDLER', `function "${found.name}" version ${found.version} has no default function export to invoke`);
    }
    return found;
  }

  async get(id: string): Promise<InvocationView> {
    return view(await this.#record(id));
  }

  async #record(id: string): Promise<InvocationRecord> {
    // Most reads are of synchronous calls just made: memory first, then the store.
    const record = this.#o.history.get(id) ?? (await this.#o.store.get(id));
    if (!record) throw new WispError('INVOCATION_NOT_FOUND', `no invocation "${id}"; finished invocations are kept for a limited time`);
    return record;
  }

  async list(query: InvocationQuery): Promise<InvocationView[]> {
    return (await this.#o.store.list(query)).map(view);
  }

  /** Resolves when the invocation is final, or after `ms` with its state then. */
  async wait(id: string, ms: number, signal?: AbortSignal): Promise<InvocationView> {
    // Listening before the read: a final state stored while it is under way is not missed.
    let finalSeen = false;
    let onFinal = (): void => void (finalSeen = true);
    const unsubscribe = this.#o.events.subscribe(id, (changed) => {
      if (isFinal(changed)) onFinal();
    });
    let record: InvocationRecord;
    try {
      record = await this.#record(id);
    } catch (err) {
      unsubscribe();
      throw err;
    }
    if (isFinal(record) || ms <= 0 || record.mode !== 'async' || this.#stopWaiting.signal.aborted) {
      unsubscribe();
      return view(record);
    }
    return new Promise((resolve, reject) => {
      const done = () => {
        unsubscribe();
        clearTimeout(timer);
        signal?.removeEventListener('abort', done);
        this.#stopWaiting.signal.removeEventListener('abort', done);
        this.get(id).then(resolve, reject);
      };
      const timer = setTimeout(done, ms);
      signal?.addEventListener('abort', done, { once: true });
      this.#stopWaiting.signal.addEventListener('abort', done, { once: true });
      onFinal = done;
      if (finalSeen) done();
    });
  }

  /**
   * Aborted when Wisp begins to shut down: long-polls answer with the state they have and event
   * streams end, so that they do not hold the shutdown for their whole wait.
   */
  get stopWaiting(): AbortSignal {
    return this.#stopWaiting.signal;
  }

  /** Ends every long-poll and event stream now (see stopWaiting). */
  releaseWaiters(): void {
    this.#stopWaiting.abort();
  }

  /** Calls `listener` with every state change of `id` until it is final or unsubscribed. */
  watch(id: string, listener: (invocation: InvocationView) => void): () => void {
    return this.#o.events.subscribe(id, (record) => listener(view(record)));
  }

  /** Cancels: a waiting invocation at once; a running one once its attempt stops. */
  async cancel(id: string): Promise<InvocationView> {
    const record = await this.#record(id);
    if (isFinal(record) || this.#o.dispatcher.attempts.isEnding(id)) throw finishedAlready(id, record.status);
    if (record.mode !== 'async') {
      throw new WispError('INVALID_REQUEST', `invocation ${id} is ${record.mode}; only asynchronous invocations can be cancelled`);
    }
    const cancelled = await this.#o.store.cancel(id, (waiting) => endCancelled(waiting, this.#o.clock.now()));
    if (!cancelled) throw new WispError('INVOCATION_NOT_FOUND', `no invocation "${id}"; finished invocations are kept for a limited time`);
    if (cancelled.outcome === 'final') throw finishedAlready(id, cancelled.record.status);
    if (cancelled.outcome === 'running') {
      // Stored first: if Wisp stops before the attempt does, the restart ends it as cancelled.
      this.#o.dispatcher.attempts.abort(id);
      this.#o.cancelElsewhere?.(id);
    } else {
      this.#o.dispatcher.ended(cancelled.record);
    }
    this.#o.events.publish(cancelled.record);
    return view(cancelled.record);
  }

  /** Runs a failed or cancelled invocation again, with the same id and a fresh set of retries. */
  async retry(id: string): Promise<InvocationView> {
    const stored = await this.#o.store.get(id);
    // A synchronous record in memory is not something Wisp can run again: it kept no input.
    if (!stored) throw new WispError('INVOCATION_NOT_FOUND', `no asynchronous invocation "${id}"`);
    const retries = this.#o.registry.resolve(stored.function, stored.version).config.retries;
    const now = this.#o.clock.now();
    const outcome = await this.#o.store.rerun(id, (record) => {
      // A run again starts over in time too: its age (maxAgeMs) and its start are counted from now.
      Object.assign(record, { status: 'queued', runAt: now, createdAt: now, maxAttempts: record.attempts + 1 + retries, result: null, startedAt: null, finishedAt: null });
      delete record.cancelRequested;
      if (record.callback) Object.assign(record.callback, { status: 'pending', attempts: 0, nextAt: null, lastError: null });
    });
    if (!outcome) throw new WispError('INVOCATION_NOT_FOUND', `no asynchronous invocation "${id}"`);
    if (!outcome.rerun) {
      throw new WispError('INVOCATION_NOT_FINISHED', `invocation ${id} is ${outcome.record.status}; only a failed or cancelled invocation can be run again`);
    }
    this.#o.events.publish(outcome.record);
    await this.#o.dispatcher.queued(outcome.record);
    return view(outcome.record);
  }

  async logs(id: string): Promise<LogEntry[]> {
    const logs = this.#o.history.logs(id) ?? (await this.#o.store.logs(id));
    if (!logs) throw new WispError('INVOCATION_NOT_FOUND', `no invocation "${id}"; finished invocations are kept for a limited time`);
    return logs;
  }

  async tree(id: string): Promise<InvocationTree> {
    let budget = MAX_TREE_NODES;
    const build = async (record: InvocationRecord): Promise<InvocationTree> => {
      budget--;
      const children: InvocationTree[] = [];
      for (const child of [...(await this.#o.store.children(record.id)), ...this.#o.history.children(record.id)]) {
        if (budget <= 0) break;
        children.push(await build(child));
      }
      return { ...view(record), children };
    };
    return build(await this.#record(id));
  }

  /** Where a finished synchronous or nested call is recorded: with its durable root, or in memory. */
  recordCall(call: CallSummary, durable: boolean): void {
    if (!durable) return this.#o.history.add(call);
    const record = toRecord(call);
    this.#o.store
      .recordFinished(record, call.logs)
      .catch((err: unknown) => this.#o.log(`cannot record nested invocation ${record.id}: ${String(err)}`));
  }

  /** After a restart: interrupted attempts run again, and pending callbacks go out. */
  async recover(): Promise<void> {
    await this.#o.dispatcher.recover();
    this.#o.callbacks.kick();
    await this.#purge();
  }

  /** Deletes final records past their retention; the next purge is scheduled first, so a slow store does not delay it. */
  #purge(): Promise<void> {
    this.#purgeTimer = this.#o.clock.schedule(() => this.#purge(), Math.min(PURGE_EVERY_MS, this.#o.retentionMs));
    return this.#o.store.purgeFinishedBefore(this.#o.clock.now() - this.#o.retentionMs).then(
      () => undefined,
      (err: unknown) => this.#o.log(`cannot purge old invocations: ${String(err)}`),
    );
  }

  async close(): Promise<void> {
    this.#purgeTimer?.cancel();
    await this.#o.dispatcher.close();
    await this.#o.callbacks.close();
  }
}

function finishedAlready(id: string, status: string): WispError {
  return new WispError('INVOCATION_FINISHED', `invocation ${id} already ${status}; only a queued, retrying or running invocation can be cancelled`);
}
