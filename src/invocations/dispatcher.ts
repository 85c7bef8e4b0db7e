// The asynchronous queue's engine: takes due invocations from the store, runs them (on the pool,
// or as a method call on an instance), and records how each attempt ended: succeeded, retrying
// after a backoff, failed, or cancelled. It honours each function's concurrency limit (shared with
// synchronous calls) and a cap on how many asynchronous invocations run at once. Work is claimed
// from the store with a lease, so that of several nodes on one store only one runs an attempt.
import type { Clock, Timer } from '../common/clock.js';
import { WakeTimer } from '../common/wake-timer.js';
import { WispError } from '../errors.js';
import type { InstanceRouter } from '../instances/instance-router.js';
import type { Registry } from '../registry/registry.js';
import { isWaitingStatus, type Claim, type InvocationStore, type Lease } from '../store/invocation-store.js';
import type { InvocationRecord, LogEntry, VersionRecord } from '../store/records.js';
import { AttemptLeases } from './attempt-leases.js';
import type { Release } from './concurrency-slots.js';
import { cancelledError, recoverCutOff } from './cut-off-attempts.js';
import type { InvocationEvents } from './invocation-events.js';
import { finish, invocationError } from './invocation-record.js';
import type { CallReport, Invoker } from './invoker.js';
import { JsonText } from './json-text.js';
import { backoffDelay, shouldRetry } from './retry-policy.js';

export interface DispatcherOptions {
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
  /** Whether this node may take queued work now (a node that fenced itself from its cluster may not). */
  mayTakeWork?: () => boolean;
  /** How many asynchronous invocations may run at once. */
  maxRunning: number;
  /** The longest backoff between two attempts. */
  maxBackoffMs: number;
  /** Told when an invocation reaches a final state (callbacks go out then). */
  onFinal: (record: InvocationRecord) => void;
  log: (message: string) => void;
}

/** How soon a pass looks again at work whose function's slots are all held on other nodes. */
const SLOT_RETRY_MS = 200;

type Report = Pick<CallReport, 'ok' | 'logs'> & ({ ok: true; json: string } | { ok: false; error: WispError; retriable: boolean });

export class Dispatcher {
  readonly #o: DispatcherOptions;
  /** Running invocations: the record the attempt updates, and the controller that cancels it. */
  readonly #running = new Map<string, { record: InvocationRecord; controller: AbortController }>();
  /** Invocations whose end is decided but not yet committed; the store still shows them running. */
  readonly #ending = new Set<string>();
  readonly #leases: AttemptLeases;
  /** Attempts stopped here because their lease was lost; taken back later, they were not a crash. */
  readonly #abandoned = new Set<string>();
  #reclaimTimer: Timer | undefined;
  readonly #wake: WakeTimer;
  #pumpQueued = false;
  /** A pass is under way (it awaits the store); a kick meanwhile asks for another after it. */
  #pumping = false;
  #pumpAgain = false;
  #closed = false;

  constructor(options: DispatcherOptions) {
    this.#o = options;
    this.#wake = new WakeTimer(options.clock, () => this.kick());
    this.#leases = new AttemptLeases({
      store: options.store,
      lease: options.lease,
      clock: options.clock,
      log: options.log,
      onLost: (id) => this.#lost(id),
    });
  }

  /**
   * Looks for due work in the next turn of the event loop: however many kicks come in one
   * turn (a commit resolving fifty submissions kicks fifty times), they make one pass.
   */
  kick(): void {
    if (this.#closed) return;
    if (this.#pumping) {
      this.#pumpAgain = true;
      return;
    }
    if (this.#pumpQueued) return;
    this.#pumpQueued = true;
    setImmediate(() => {
      this.#pumpQueued = false;
      void this.#pump();
    });
  }

  /** Whether this invocation's end is decided here and about to be stored: too late to cancel. */
  isEnding(id: string): boolean {
    return this.#ending.has(id);
  }

  /** Stops the attempt of `record` if it runs here; it then ends as `cancelled`. */
  abort(id: string): void {
    const running = this.#running.get(id);
    if (!running) return;
    running.record.cancelRequested = true;
    running.controller.abort();
  }

  /** A waiting invocation was ended outside an attempt (cancelled): told as one ended here is. */
  ended(record: InvocationRecord): void {
    this.#o.onFinal(record);
  }

  /**
   * At the start, and then every lease period: attempts left running by an earlier incarnation
   * of this node, and any whose lease ran out (their node died, or this one lost touch with the
   * store for longer than a lease), were cut off and are taken back (see recoverCutOff).
   */
  async recover(): Promise<void> {
    await this.#reclaim();
    this.kick();
  }

  async #reclaim(): Promise<void> {
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
          else this.kick();
        }
      }
    } catch (err) {
      this.#o.log(`cannot take back cut-off invocations: ${String(err)}`);
    } finally {
      if (!this.#closed) this.#reclaimTimer = this.#o.clock.schedule(() => this.#reclaim(), this.#o.lease.ms);
    }
  }

  /** Stops taking new work; running attempts still finish and are recorded. */
  close(): void {
    this.#closed = true;
    this.#reclaimTimer?.cancel();
    this.#wake.cancel();
    this.#leases.close();
  }

  async #pump(): Promise<void> {
    if (this.#closed) return;
    this.#pumping = true;
    try {
      await this.#takeDueWork();
    } catch (err) {
      // The store is out of reach: the next kick, or the wake-up below, tries again.
      this.#o.log(`cannot take due invocations: ${String(err)}`);
      this.#wake.wakeAt(this.#o.clock.now() + 1000, this.#o.clock.now());
    } finally {
      this.#pumping = false;
    }
    if (this.#pumpAgain) {
      this.#pumpAgain = false;
      this.kick();
    }
  }

  async #takeDueWork(): Promise<void> {
    const skip = new Set<string>();
    let refused = false;
    let now = this.#o.clock.now();
    if (this.#o.mayTakeWork && !this.#o.mayTakeWork()) {
      this.#wake.wakeAt(now + 1000, now);
      return;
    }
    while (!this.#closed && this.#running.size < this.#o.maxRunning) {
      const free = this.#o.maxRunning - this.#running.size;
      const due = (await this.#o.store.due(now, free + skip.size + 8, [...skip])).filter((record) => !this.#running.has(record.id));
      const chosen = this.#choose(due, free, skip);
      if (chosen.length === 0) break;
      const slots = await this.#reserveSlots(chosen, skip);
      const runnable = chosen.filter((record) => record.instance !== null || slots.has(record.id) || !this.#version(record));
      if (runnable.length < chosen.length) refused = true;
      const claims = runnable.length === 0 ? [] : await this.#o.store.claim(runnable.map((record) => record.id), this.#o.lease, now);
      const before = new Map(runnable.map((record) => [record.id, record]));
      for (const claim of claims) {
        this.#start(claim, before.get(claim.record.id)!, slots.get(claim.record.id));
        slots.delete(claim.record.id);
      }
      // Slots taken for invocations another node claimed first.
      for (const release of slots.values()) release();
      // None won (all taken meanwhile): what is left is not claimable now. Never loop on
      // without progress: these awaits are microtasks, and would starve the event loop.
      if (claims.length === 0) break;
      now = this.#o.clock.now();
    }
    // Due work left behind waits for a free slot (a finishing attempt kicks the pump); later
    // work wakes it when it falls due. Slots refused with this node's count below the limit are
    // held on other nodes, whose attempts ending kick nothing here: look again shortly.
    if (refused) this.#wake.wakeAt(now + SLOT_RETRY_MS, now);
    this.#wake.wakeAt(await this.#o.store.nextRunAt(), now);
  }

  /**
   * Takes a concurrency slot for each chosen invocation of a function (instances' methods take
   * none): an invocation whose function has no slot left, here or on another node, is not
   * claimed now, and its function sits out the rest of this pass.
   */
  async #reserveSlots(chosen: InvocationRecord[], skip: Set<string>): Promise<Map<string, Release>> {
    const byFunction = new Map<string, { version: VersionRecord; records: InvocationRecord[] }>();
    for (const record of chosen) {
      const version = record.instance === null ? this.#version(record) : undefined;
      if (!version) continue;
      const entry = byFunction.get(record.function) ?? { version, records: [] };
      entry.records.push(record);
      byFunction.set(record.function, entry);
    }
    const slots = new Map<string, Release>();
    await Promise.all(
      [...byFunction].map(async ([name, { version, records }]) => {
        const taken = await this.#o.invoker.reserve(version, records.length);
        taken.forEach((release, i) => slots.set(records[i]!.id, release));
        if (taken.length < records.length) skip.add(name);
      }),
    );
    return slots;
  }

  /**
   * Of the due records, those to claim now: up to `free`, within each function's concurrency
   * limit (counting the ones chosen before them); the functions at their limit go into `skip`.
   * Records past their maximum age are chosen too: their attempt fails at once.
   */
  #choose(due: InvocationRecord[], free: number, skip: Set<string>): InvocationRecord[] {
    const chosen: InvocationRecord[] = [];
    const taking = new Map<string, number>();
    for (const record of due) {
      if (chosen.length >= free) break;
      if (record.instance === null) {
        const version = this.#version(record);
        const extra = taking.get(record.function) ?? 0;
        if (version && !this.#o.invoker.hasCapacity(version, extra)) {
          skip.add(record.function);
          continue;
        }
        taking.set(record.function, extra + 1);
      }
      chosen.push(record);
    }
    return chosen;
  }

  /**
   * Runs the attempt of a claimed invocation with the concurrency slot taken for it, or ends it
   * when it waited past its maximum age.
   */
  #start({ record, token }: Claim, unclaimed: InvocationRecord, slot: Release | undefined): void {
    const now = this.#o.clock.now();
    const controller = new AbortController();
    this.#running.set(record.id, { record, controller });
    this.#leases.hold(record.id, token, now);
    if (now - record.createdAt > record.maxAgeMs) {
      slot?.();
      const error = new WispError('EVENT_AGE_EXCEEDED', `the invocation waited ${now - record.createdAt} ms, past its maximum age of ${record.maxAgeMs} ms, and did not run`);
      this.#running.delete(record.id);
      // As it was before the claim: it never started, and used no attempt.
      void this.#end(unclaimed, 'failed', { error: invocationError(error) }, []);
      return;
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
  }

  /** The lease of a running attempt is gone: another node may run it, so this one stops. */
  #lost(id: string): void {
    const running = this.#running.get(id);
    if (!running || this.#ending.has(id)) return;
    this.#o.log(`invocation ${id}: lost the lease on its attempt; it is stopped here and runs again`);
    this.#running.delete(id);
    this.#abandoned.add(id);
    running.controller.abort();
    this.kick();
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
      const report = await this.#o.instances.run(record.instance, record.method!, args, { attempt: record.attempts });
      // Whether it is worth another attempt is the retry policy's call (INSTANCE_NOT_FOUND is not).
      return report.ok ? report : { ...report, retriable: true };
    } catch (err) {
      return { ok: false, error: new WispError('INTERNAL_ERROR', String(err)), retriable: true, logs: [] };
    }
  }

  #complete(record: InvocationRecord, signal: AbortSignal, report: Report): void {
    // Gone already when its lease was lost: the attempt's outcome is not this node's to write.
    if (this.#running.get(record.id)?.record !== record) return;
    this.#running.delete(record.id);
    if (signal.aborted || record.cancelRequested) {
      void this.#end(record, 'cancelled', { error: cancelledError(record) }, report.logs);
    } else if (report.ok) {
      void this.#end(record, 'succeeded', { result: new JsonText(report.json) }, report.logs);
    } else if (shouldRetry({ code: report.error.code, retriable: report.retriable, attempts: record.attempts, maxAttempts: record.maxAttempts })) {
      const base = this.#version(record)?.config.retryBackoffMs ?? 1000;
      const delay = backoffDelay(record.attempts, { baseMs: base, maxMs: this.#o.maxBackoffMs }, this.#o.clock.random());
      record.status = 'retrying';
      record.error = invocationError(report.error);
      record.runAt = this.#o.clock.now() + delay;
      void this.#settle(record, report.logs);
    } else {
      void this.#end(record, 'failed', { error: invocationError(report.error) }, report.logs);
    }
    this.kick();
  }

  async #end(record: InvocationRecord, status: 'succeeded' | 'failed' | 'cancelled', outcome: Parameters<typeof finish>[3], logs: LogEntry[]): Promise<void> {
    finish(record, status, this.#o.clock.now(), outcome);
    this.#ending.add(record.id);
    const stored = await this.#settle(record, logs);
    this.#ending.delete(record.id);
    if (stored) this.#o.onFinal(record);
  }

  #version(record: InvocationRecord): VersionRecord | undefined {
    return versionOf(this.#o.registry, record);
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
    // Waiting again: a pass that ran before this was stored did not see when it falls due.
    if (isWaitingStatus(record.status)) {
      const now = this.#o.clock.now();
      if (record.runAt <= now) this.kick();
      else this.#wake.wakeAt(record.runAt, now);
    }
    return true;
  }
}

/** The version an invocation runs, if the function still has it. */
function versionOf(registry: Registry, record: InvocationRecord): VersionRecord | undefined {
  try {
    return registry.resolve(record.function, record.version);
  } catch {
    return undefined;
  }
}

