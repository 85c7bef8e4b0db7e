// The asynchronous queue's engine: takes due invocations from the store, runs them (on the pool,
// or as a method call on an instance), and records how each attempt ended: succeeded, retrying
// after a backoff, failed, or cancelled. It honours each function's concurrency limit (shared with
// synchronous calls) and a cap on how many asynchronous invocations run at once.
import type { Clock } from '../common/clock.js';
import { WakeTimer } from '../common/wake-timer.js';
import { WispError } from '../errors.js';
import type { InstanceManager } from '../instances/instance-manager.js';
import type { Registry } from '../registry/registry.js';
import type { InvocationStore } from '../store/invocation-store.js';
import type { InvocationRecord, LogEntry, VersionRecord } from '../store/records.js';
import type { InvocationEvents } from './invocation-events.js';
import { finish, invocationError } from './invocation-record.js';
import type { CallReport, Invoker } from './invoker.js';
import { JsonText } from './json-text.js';
import { backoffDelay, shouldRetry } from './retry-policy.js';
import type { WriteBatcher } from './write-batcher.js';

export interface DispatcherOptions {
  store: InvocationStore;
  /** Group commit: state changes of many invocations share one transaction. */
  writes: WriteBatcher;
  registry: Registry;
  invoker: Invoker;
  instances: InstanceManager;
  events: InvocationEvents;
  clock: Clock;
  /** How many asynchronous invocations may run at once. */
  maxRunning: number;
  /** The longest backoff between two attempts. */
  maxBackoffMs: number;
  /** Told when an invocation reaches a final state (callbacks go out then). */
  onFinal: (record: InvocationRecord) => void;
  log: (message: string) => void;
}

type Report = Pick<CallReport, 'ok' | 'logs'> & ({ ok: true; json: string } | { ok: false; error: WispError; retriable: boolean });

/** How many deaths of Wisp an invocation's attempts may be found cut off by before it is given up. */
const POISON_PILL_CRASHES = 2;

export class Dispatcher {
  readonly #o: DispatcherOptions;
  /** Running invocations: the record the attempt updates, and the controller that cancels it. */
  readonly #running = new Map<string, { record: InvocationRecord; controller: AbortController }>();
  /** Invocations whose end is decided but not yet committed; the store still shows them waiting. */
  readonly #ending = new Set<string>();
  readonly #wake: WakeTimer;
  #pumpQueued = false;
  #closed = false;

  constructor(options: DispatcherOptions) {
    this.#o = options;
    this.#wake = new WakeTimer(options.clock, () => this.#pump());
  }

  /** Looks for due work soon (coalesced: many kicks in one tick make one pass). */
  kick(): void {
    if (this.#pumpQueued || this.#closed) return;
    this.#pumpQueued = true;
    setImmediate(() => {
      this.#pumpQueued = false;
      this.#pump();
    });
  }

  /**
   * Cancels an invocation that is not final: a waiting one ends as `cancelled` now; a running one
   * has its attempt aborted and ends as `cancelled` once that stops. Resolves with the record
   * once the cancellation is stored, in order with every other write of the same record.
   */
  async cancel(record: InvocationRecord): Promise<InvocationRecord> {
    if (this.#ending.has(record.id)) {
      throw new WispError('INVOCATION_FINISHED', `invocation ${record.id} has just finished; it can no longer be cancelled`);
    }
    const running = this.#running.get(record.id);
    if (!running) {
      await this.#end(record, 'cancelled', { error: cancelledError(record) }, []);
      return record;
    }
    // Stored first: if Wisp stops before the attempt does, the restart ends it as cancelled.
    running.record.cancelRequested = true;
    const stored = this.#save(running.record, []);
    running.controller.abort();
    await stored;
    return running.record;
  }

  /**
   * After a restart: an invocation left `running` was cut off when Wisp died and runs again
   * (at-least-once); that attempt was not the function's failure, so it does not use up a
   * retry. But an attempt may itself be what killed Wisp (a fatal out-of-memory inside V8 takes
   * the whole process, not just a worker): the second time one is found cut off, it is a poison
   * pill and fails HOST_CRASHED rather than take the next start down too.
   */
  recover(): void {
    const now = this.#o.clock.now();
    for (const record of this.#o.store.withStatus('running')) {
      record.hostCrashes = (record.hostCrashes ?? 0) + 1;
      if (record.cancelRequested) {
        finish(record, 'cancelled', now, { error: cancelledError(record) });
        this.#o.onFinal(record);
      } else if (record.hostCrashes >= POISON_PILL_CRASHES) {
        const error = new WispError(
          'HOST_CRASHED',
          `invocation ${record.id} of "${record.function}" was running each of the ${record.hostCrashes} times Wisp died; it is not run again, since it may be what killed it (for example a fatal out-of-memory from building a huge string)`,
        );
        finish(record, 'failed', now, { error: invocationError(error) });
        this.#o.log(`invocation ${record.id}: failed HOST_CRASHED after ${record.hostCrashes} deaths of Wisp during its attempts`);
        this.#o.onFinal(record);
      } else {
        record.status = 'retrying';
        record.runAt = now;
        record.maxAttempts += 1;
      }
      this.#o.store.save(record);
    }
    this.kick();
  }

  /** Stops taking new work; running attempts still finish and are recorded. */
  close(): void {
    this.#closed = true;
    this.#wake.cancel();
  }

  #pump(): void {
    if (this.#closed) return;
    const skip = new Set<string>();
    const now = this.#o.clock.now();
    while (this.#running.size < this.#o.maxRunning) {
      const free = this.#o.maxRunning - this.#running.size;
      const due = this.#o.store.due(now, free + skip.size + 8, [...skip]).filter((record) => !this.#running.has(record.id) && !this.#ending.has(record.id));
      if (due.length === 0) break;
      let started = 0;
      for (const record of due) {
        if (this.#running.size >= this.#o.maxRunning) break;
        if (this.#start(record, now, skip)) started++;
      }
      if (started === 0) break;
    }
    // Due work left behind waits for a free slot (a finishing attempt kicks the pump); later
    // work wakes it when it falls due.
    this.#wake.wakeAt(this.#o.store.nextRunAt(), now);
  }



  /** Starts one attempt; false when the function is at its concurrency limit. */
  #start(record: InvocationRecord, now: number, skip: Set<string>): boolean {
    if (now - record.createdAt > record.maxAgeMs) {
      const error = new WispError('EVENT_AGE_EXCEEDED', `the invocation waited ${now - record.createdAt} ms, past its maximum age of ${record.maxAgeMs} ms, and did not run`);
      this.#end(record, 'failed', { error: invocationError(error) }, []);
      return true;
    }
    let version: VersionRecord | undefined;
    if (record.instance === null) {
      version = this.#version(record);
      if (version && !this.#o.invoker.hasCapacity(version)) {
        skip.add(record.function);
        return false;
      }
    }
    record.status = 'running';
    record.attempts += 1;
    record.startedAt ??= now;
    // The attempt starts before this is committed: if Wisp dies first, the record still says
    // queued and the invocation runs again, which at-least-once allows.
    this.#save(record, []);
    const controller = new AbortController();
    this.#running.set(record.id, { record, controller });
    void this.#attempt(record, controller.signal).then(
      (report) => this.#complete(record, controller.signal, report),
      (err: unknown) => {
        this.#o.log(`invocation ${record.id}: attempt failed unexpectedly: ${String(err)}`);
        this.#complete(record, controller.signal, { ok: false, error: new WispError('INTERNAL_ERROR', String(err)), retriable: true, logs: [] });
      },
    );
    return true;
  }

  async #attempt(record: InvocationRecord, signal: AbortSignal): Promise<Report> {
    if (record.instance === null) {
      return this.#o.invoker.call(record.function, record.input, {
        invocationId: record.id,
        version: record.version,
        attempt: record.attempts,
        durable: true,
        signal,
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
    this.#running.delete(record.id);
    if (signal.aborted || record.cancelRequested) {
      this.#end(record, 'cancelled', { error: cancelledError(record) }, report.logs);
    } else if (report.ok) {
      this.#end(record, 'succeeded', { result: new JsonText(report.json) }, report.logs);
    } else if (shouldRetry({ code: report.error.code, retriable: report.retriable, attempts: record.attempts, maxAttempts: record.maxAttempts })) {
      const base = this.#version(record)?.config.retryBackoffMs ?? 1000;
      const delay = backoffDelay(record.attempts, { baseMs: base, maxMs: this.#o.maxBackoffMs }, this.#o.clock.random());
      record.status = 'retrying';
      record.error = invocationError(report.error);
      record.runAt = this.#o.clock.now() + delay;
      this.#save(record, report.logs);
    } else {
      this.#end(record, 'failed', { error: invocationError(report.error) }, report.logs);
    }
    this.kick();
  }

  #end(record: InvocationRecord, status: 'succeeded' | 'failed' | 'cancelled', outcome: Parameters<typeof finish>[3], logs: LogEntry[]): Promise<void> {
    finish(record, status, this.#o.clock.now(), outcome);
    this.#ending.add(record.id);
    return this.#save(record, logs).then(() => {
      this.#ending.delete(record.id);
      this.#o.onFinal(record);
    });
  }

  #version(record: InvocationRecord): VersionRecord | undefined {
    return versionOf(this.#o.registry, record);
  }

  /** Stores the record's state (in the next group commit), then tells whoever waits on it. */
  async #save(record: InvocationRecord, logs: LogEntry[]): Promise<void> {
    // A snapshot: the record object changes on while this write waits for its turn. Shallow is
    // enough: fields are replaced, never changed in place, except the callback's.
    const snapshot: InvocationRecord = { ...record, callback: record.callback && { ...record.callback } };
    try {
      await this.#o.writes.write(() => {
        this.#o.store.save(snapshot);
        this.#o.store.appendLogs(snapshot.id, logs);
      });
    } catch (err) {
      // The record stays as it was on disk (queued or running), so the next start runs it
      // again: late, not lost.
      this.#o.log(`invocation ${record.id}: cannot record its ${record.status} state: ${String(err)}`);
      return;
    }
    this.#o.events.publish(snapshot);
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

function cancelledError(record: InvocationRecord): ReturnType<typeof invocationError> {
  return invocationError(new WispError('INVOCATION_CANCELLED', `invocation ${record.id} was cancelled`));
}
