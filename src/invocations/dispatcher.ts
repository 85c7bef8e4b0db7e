// The asynchronous queue's engine on the embedded backend: takes due invocations from the
// store's own queue and hands each claimed one to the attempt runner. It honours each function's
// concurrency limit (shared with synchronous calls) and a cap on how many asynchronous
// invocations run at once. Work is claimed from the store with a lease, so that of several
// processes on one store only one runs an attempt.
import type { Clock } from '../common/clock.js';
import { WakeTimer } from '../common/wake-timer.js';
import type { Registry } from '../registry/registry.js';
import type { InvocationStore } from '../store/invocation-store.js';
import type { InvocationRecord, VersionRecord } from '../store/records.js';
import { AttemptRunner, versionOf, type AttemptRunnerOptions } from './attempt-runner.js';
import type { Release } from './concurrency-slots.js';
import type { Dispatch } from './dispatch.js';
import type { Invoker } from './invoker.js';

export interface DispatcherOptions extends Omit<AttemptRunnerOptions, 'onWaiting' | 'onFreed'> {
  store: InvocationStore;
  registry: Registry;
  invoker: Invoker;
  clock: Clock;
  /** Whether this node may take queued work now (a node that fenced itself from its cluster may not). */
  mayTakeWork?: () => boolean;
  /** How many asynchronous invocations may run at once. */
  maxRunning: number;
}

/** How soon a pass looks again at work whose function's slots are all held on other nodes. */
const SLOT_RETRY_MS = 200;

export class Dispatcher implements Dispatch {
  readonly #o: DispatcherOptions;
  readonly #runner: AttemptRunner;

  get attempts(): AttemptRunner {
    return this.#runner;
  }
  readonly #wake: WakeTimer;
  #pumpQueued = false;
  /** A pass is under way (it awaits the store); a kick meanwhile asks for another after it. */
  #pumping = false;
  #pumpAgain = false;
  #closed = false;

  constructor(options: DispatcherOptions) {
    this.#o = options;
    this.#wake = new WakeTimer(options.clock, () => this.kick());
    this.#runner = new AttemptRunner({
      ...options,
      onWaiting: (record) => {
        const now = options.clock.now();
        if (record.runAt <= now) this.kick();
        else this.#wake.wakeAt(record.runAt, now);
      },
      onFreed: () => this.kick(),
    });
  }

  queued(): Promise<void> {
    this.kick();
    return Promise.resolve();
  }

  queuedMany(): Promise<void> {
    return this.queued();
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

  ended(record: InvocationRecord): void {
    this.#o.onFinal(record);
  }

  async recover(): Promise<void> {
    await this.#runner.recover();
    this.kick();
  }

  close(): Promise<void> {
    this.#closed = true;
    this.#wake.cancel();
    this.#runner.close();
    return Promise.resolve();
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
    while (!this.#closed && this.#runner.size < this.#o.maxRunning) {
      const free = this.#o.maxRunning - this.#runner.size;
      const due = (await this.#o.store.due(now, free + skip.size + 8, [...skip])).filter((record) => !this.#runner.isRunning(record.id));
      const skipped = skip.size;
      const chosen = this.#choose(due, free, skip);
      if (chosen.length === 0) {
        // All at their limit: ask again past those functions (each round skips one more, so
        // this ends), or stop when there is nothing else due.
        if (skip.size > skipped && due.length > 0) continue;
        break;
      }
      const slots = await this.#reserveSlots(chosen, skip);
      const runnable = chosen.filter((record) => record.instance !== null || slots.has(record.id) || !this.#version(record));
      if (runnable.length < chosen.length) refused = true;
      const claims = runnable.length === 0 ? [] : await this.#o.store.claim(runnable.map((record) => record.id), this.#o.lease, now);
      const before = new Map(runnable.map((record) => [record.id, record]));
      for (const claim of claims) {
        void this.#runner.start(claim, before.get(claim.record.id)!, slots.get(claim.record.id));
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

  #version(record: InvocationRecord): VersionRecord | undefined {
    return versionOf(this.#o.registry, record);
  }
}
