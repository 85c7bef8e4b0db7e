// The attempts of claimed asynchronous invocations on this node: runs each (on the pool, or as
// a method call on an instance), keeps its lease renewed, and stores how it ended: succeeded,
// retrying after a backoff, failed, or cancelled. Attempts cut off elsewhere (their node died,
// or lost its lease) are taken back every lease period. What finds work to claim is not its job:
// the store's own queue (dispatcher.ts) or BullMQ's (job-dispatcher.ts) does that.
import type { Clock, Timer } from '../common/clock.js';
import { WispError } from '../errors.js';
import type { InstanceRouter } from '../instances/instance-router.js';
import type { Registry } from '../registry/registry.js';
import type { Claim, InvocationStore, Lease } from '../store/invocation-store.js';
import { isWaitingStatus } from '../store/invocation-store.js';
import type { InvocationRecord, LogEntry, VersionRecord } from '../store/records.js';
import { AttemptLeases } from './attempt-leases.js';
import type { Release } from './concurrency-slots.js';
import { cancelledError, recoverCutOff } from './cut-off-attempts.js';
import type { InvocationEvents } from './invocation-events.js';
import { finish, invocationError } from './invocation-record.js';
import type { CallReport, Invoker } from './invoker.js';
import { JsonText } from './json-text.js';
import { backoffDelay, shouldRetry } from './retry-policy.js';

export interface AttemptRunnerOptions {
  store: InvocationStore;
  registry: Registry;
  invoker: Invoker;
  instances: InstanceRouter;
  events: InvocationEvents;
  clock: Clock;
  /** This node's claims on attempts: `owner` is `node/incarnation`. */
  lease: Lease;
  /** This node's id: leases of its earlier incarnations are taken back at the start. */
  node: string;
  /** The longest backoff between two attempts. */
  maxBackoffMs: number;
  /** Told when an invocation reaches a final state (callbacks go out then). */
  onFinal: (record: InvocationRecord) => void;
  /**
   * Told when an invocation is stored waiting again: after a retry's backoff (`cutOff` false;
   * whoever started the attempt learns of it from start()'s answer too), or as a cut-off
   * attempt taken back (`cutOff` true; nothing here runs it).
   */
  onWaiting: (record: InvocationRecord, cutOff: boolean) => void;
  /** Told when an attempt stops running here, whatever became of it: there is room for another. */
  onFreed: () => void;
  log: (message: string) => void;
}

type Report = Pick<CallReport, 'ok' | 'logs'> & ({ ok: true; json: string } | { ok: false; error: WispError; retriable: boolean });

interface Running {
  record: InvocationRecord;
  controller: AbortController;
  /** Resolves with the record as stored when the attempt's outcome is stored, or undefined when it was not this node's to store. */
  settled: (stored: InvocationRecord | undefined) => void;
}

export class AttemptRunner {
  readonly #o: AttemptRunnerOptions;
  readonly #running = new Map<string, Running>();
  /** Invocations whose end is decided but not yet committed; the store still shows them running. */
  readonly #ending = new Set<string>();
  readonly #leases: AttemptLeases;
  /** Attempts stopped here because their lease was lost; taken back later, they were not a crash. */
  readonly #abandoned = new Set<string>();
  #reclaimTimer: Timer | undefined;
  #reclaiming: Promise<void> | undefined;
  #closed = false;

  constructor(options: AttemptRunnerOptions) {
    this.#o = options;
    this.#leases = new AttemptLeases({
      store: options.store,
      lease: options.lease,
      clock: options.clock,
      log: options.log,
      onLost: (id) => this.#lost(id),
    });
  }

  /** How many attempts run here. */
  get size(): number {
    return this.#running.size;
  }

  isRunning(id: string): boolean {
    return this.#running.has(id);
  }

  /** Whether this invocation's end is decided here and about to be stored: too late to cancel. */
  isEnding(id: string): boolean {
    return this.#ending.has(id);
  }

  /** Stops the attempt of `id` if it runs here; it then ends as `cancelled`. */
  abort(id: string): void {
    const running = this.#running.get(id);
    if (!running) return;
    running.record.cancelRequested = true;
    running.controller.abort();
  }

  /**
   * Runs the attempt of a claimed invocation with the concurrency slot taken for it, or ends it
   * when it waited past its maximum age. Resolves with the record as stored once its outcome
   * is, or with undefined when that was not this node's to store (its lease passed to another).
   */
  start({ record, token }: Claim, unclaimed: InvocationRecord, slot: Release | undefined): Promise<InvocationRecord | undefined> {
    const now = this.#o.clock.now();
    const controller = new AbortController();
    let settled!: Running['settled'];
    const outcome = new Promise<InvocationRecord | undefined>((resolve) => (settled = resolve));
    this.#running.set(record.id, { record, controller, settled });
    this.#leases.hold(record.id, token, now);
    if (now - record.createdAt > record.maxAgeMs) {
      slot?.();
      const error = new WispError('EVENT_AGE_EXCEEDED', `the invocation waited ${now - record.createdAt} ms, past its maximum age of ${record.maxAgeMs} ms, and did not run`);
      this.#running.delete(record.id);
      // As it was before the claim: it never started, and used no attempt.
      void this.#end(unclaimed, 'failed', { error: invocationError(error) }, []).then((stored) => settled(stored ? unclaimed : undefined));
      // Like every other way an attempt stops running here: what held room for it lets go.
      this.#o.onFreed();
      return outcome;
    }
    // The claim has made it running; whoever watches it sees the attempt start.
    this.#o.events.publish({ ...record });
    void this.#attempt(record, controller.signal, slot).then(
      (report) => this.#complete(record, controller.signal, report),
      (err: unknown) => {
        this.#o.log(`invocation ${record.id}: attempt failed unexpectedly: ${String(err)}`);
        this.#complete(record, controller.signal, { ok: false, error: new WispError('INTERNAL_ERROR', String(err)), retriable: true, logs: [] });
      },
    );
    return outcome;
  }

  /**
   * At the start, and then every lease period: attempts left running by an earlier incarnation
   * of this node, and any whose lease ran out (their node died, or this one lost touch with the
   * store for longer than a lease), were cut off and are taken back (see recoverCutOff).
   */
  async recover(): Promise<void> {
    await this.reclaim();
  }

  /** Takes back cut-off attempts now; calls made while one pass runs share it. */
  reclaim(): Promise<void> {
    this.#reclaiming ??= this.#reclaim().finally(() => (this.#reclaiming = undefined));
    return this.#reclaiming;
  }

  async #reclaim(): Promise<void> {
    this.#reclaimTimer?.cancel();
    const now = this.#o.clock.now();
    try {
      for (const { record, token } of await this.#o.store.reclaim(this.#o.lease, this.#o.node, now)) {
        // Still running here (its renewal was late): the attempt goes on under the new lease.
        if (this.#running.has(record.id) && !this.#ending.has(record.id)) {
          this.#leases.hold(record.id, token, now);
          continue;
        }
        // Stopped here when its lease was lost: cut off by the store's absence, not a crash.
        const crashed = !this.#abandoned.delete(record.id);
        const final = recoverCutOff(record, now, this.#o.log, crashed);
        if (await this.#o.store.settle(token, record, [])) {
          this.#o.events.publish(record);
          if (final) this.#o.onFinal(record);
          else this.#o.onWaiting(record, true);
        }
      }
    } catch (err) {
      this.#o.log(`cannot take back cut-off invocations: ${String(err)}`);
    } finally {
      if (!this.#closed) this.#reclaimTimer = this.#o.clock.schedule(() => this.reclaim(), this.#o.lease.ms);
    }
  }

  /** Takes back nothing more; running attempts still finish and are recorded. */
  close(): void {
    this.#closed = true;
    this.#reclaimTimer?.cancel();
    this.#leases.close();
  }

  /** The lease of a running attempt is gone: another node may run it, so this one stops. */
  #lost(id: string): void {
    const running = this.#running.get(id);
    if (!running || this.#ending.has(id)) return;
    this.#o.log(`invocation ${id}: lost the lease on its attempt; it is stopped here and runs again`);
    this.#running.delete(id);
    this.#abandoned.add(id);
    running.controller.abort();
    running.settled(undefined);
    this.#o.onFreed();
  }

  async #attempt(record: InvocationRecord, signal: AbortSignal, slot: Release | undefined): Promise<Report> {
    if (record.instance === null) {
      return this.#o.invoker.call(record.function, record.input, {
        invocationId: record.id,
        version: record.version,
        attempt: record.attempts,
        durable: true,
        signal,
        ...(slot ? { slot } : {}),
      });
    }
    try {
      const args = Array.isArray(record.input) ? record.input : [record.input];
      const report = await this.#o.instances.run(record.instance, record.method!, args, { attempt: record.attempts, invocationId: record.id });
      // Whether it is worth another attempt is the retry policy's call (INSTANCE_NOT_FOUND is not).
      return report.ok ? report : { ...report, retriable: true };
    } catch (err) {
      return { ok: false, error: new WispError('INTERNAL_ERROR', String(err)), retriable: true, logs: [] };
    }
  }

  #complete(record: InvocationRecord, signal: AbortSignal, report: Report): void {
    // Gone already when its lease was lost: the attempt's outcome is not this node's to write.
    const running = this.#running.get(record.id);
    if (running?.record !== record) return;
    this.#running.delete(record.id);
    let stored: Promise<boolean>;
    if (signal.aborted || record.cancelRequested) {
      stored = this.#end(record, 'cancelled', { error: cancelledError(record) }, report.logs);
    } else if (report.ok) {
      stored = this.#end(record, 'succeeded', { result: new JsonText(report.json) }, report.logs);
    } else if (shouldRetry({ code: report.error.code, retriable: report.retriable, attempts: record.attempts, maxAttempts: record.maxAttempts })) {
      const base = versionOf(this.#o.registry, record)?.config.retryBackoffMs ?? 1000;
      const delay = backoffDelay(record.attempts, { baseMs: base, maxMs: this.#o.maxBackoffMs }, this.#o.clock.random());
      record.status = 'retrying';
      record.error = invocationError(report.error);
      record.runAt = this.#o.clock.now() + delay;
      stored = this.#settle(record, report.logs);
    } else {
      stored = this.#end(record, 'failed', { error: invocationError(report.error) }, report.logs);
    }
    void stored.then((ok) => running.settled(ok ? record : undefined));
    this.#o.onFreed();
  }

  async #end(record: InvocationRecord, status: 'succeeded' | 'failed' | 'cancelled', outcome: Parameters<typeof finish>[3], logs: LogEntry[]): Promise<boolean> {
    finish(record, status, this.#o.clock.now(), outcome);
    this.#ending.add(record.id);
    const stored = await this.#settle(record, logs);
    this.#ending.delete(record.id);
    if (stored) this.#o.onFinal(record);
    return stored;
  }

  /** Stores how the attempt ended with the claim's token, then tells whoever waits on it. */
  async #settle(record: InvocationRecord, logs: LogEntry[]): Promise<boolean> {
    const token = this.#leases.token(record.id);
    this.#leases.release(record.id);
    if (token === undefined) return false;
    try {
      if (!(await this.#o.store.settle(token, record, logs))) {
        this.#o.log(`invocation ${record.id}: its ${record.status} state was not stored: the claim on the attempt had passed to another`);
        return false;
      }
    } catch (err) {
      // The store keeps it running under a lease that runs out; then it is taken back and runs
      // again: late, not lost.
      this.#o.log(`invocation ${record.id}: cannot record its ${record.status} state: ${String(err)}`);
      return false;
    }
    this.#o.events.publish(record);
    // Waiting again: whatever finds work must know when it falls due.
    if (isWaitingStatus(record.status)) this.#o.onWaiting(record, false);
    return true;
  }
}

/** The version an invocation runs, if this node knows the function still has it. */
export function versionOf(registry: Registry, record: InvocationRecord): VersionRecord | undefined {
  try {
    return registry.resolve(record.function, record.version);
  } catch {
    return undefined;
  }
}
