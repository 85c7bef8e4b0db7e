// The asynchronous queue's engine on the cluster backend: BullMQ holds a job per waiting
// invocation (job id = invocation id), one queue per function so that a function held at its
// concurrency limit never holds up the others' work. Whichever node takes a job reads the
// record, takes a concurrency slot (cluster-wide) and the claim on the attempt, and hands it to
// the attempt runner; a retry's backoff moves the job to BullMQ's delayed set, so no node polls.
// A node killed mid-attempt stops renewing its job's lock: another node takes the job again, and
// takes the attempt back as cut off (no retry spent). The record stays the truth: a job that
// finds its invocation final or gone is done, and one missing (a node died between storing the
// record and adding its job) is added again by the sweep every node makes now and then.
import type { Clock } from '../common/clock.js';
import type { Registry } from '../registry/registry.js';
import { isWaitingStatus, type InvocationStore } from '../store/invocation-store.js';
import type { InvocationRecord } from '../store/records.js';
import type { JobNext, WorkQueue } from '../store/work-queue.js';
import { AttemptRunner, versionOf, type AttemptRunnerOptions } from './attempt-runner.js';
import type { Release } from './concurrency-slots.js';
import type { Dispatch } from './dispatch.js';
import { isFinal } from './invocation-record.js';
import type { Invoker } from './invoker.js';
import { RunningCap } from './running-cap.js';

export interface JobDispatcherOptions extends Omit<AttemptRunnerOptions, 'onWaiting' | 'onFreed'> {
  store: InvocationStore;
  queue: WorkQueue;
  registry: Registry;
  invoker: Invoker;
  clock: Clock;
  /** Whether this node may take queued work now (a node that fenced itself from its cluster may not). */
  mayTakeWork: () => boolean;
  /** How many asynchronous invocations may run at once on this node. */
  maxRunning: number;
}

/** How soon an invocation whose function's slots are all held elsewhere asks again. */
const SLOT_RETRY_MS = 200;
/** How long a job waits here for a slot before it goes back (so that one queue never pins a worker). */
const SLOT_HOLD_MS = 2000;
/** How soon a job whose attempt runs on another node (or this node is fenced) is looked at again. */
const RECHECK_MS = 1000;
/** How often every node adds back jobs missing for due invocations, and how many it looks at. */
const SWEEP_EVERY_MS = 30_000;
const SWEEP_LIMIT = 1000;

export class JobDispatcher implements Dispatch {
  readonly #o: JobDispatcherOptions;
  readonly #runner: AttemptRunner;

  get attempts(): AttemptRunner {
    return this.#runner;
  }
  readonly #cap: RunningCap;
  #sweepTimer: NodeJS.Timeout | undefined;
  #closed = false;

  constructor(options: JobDispatcherOptions) {
    this.#o = options;
    this.#cap = new RunningCap(options.maxRunning);
    this.#runner = new AttemptRunner({
      ...options,
      // A retry's backoff: the job that ran the attempt is delayed by its handler. A cut-off
      // attempt's job may still be locked by the node that died (until its lock runs out and a
      // stalled-job check frees it): it runs now, outside BullMQ, and a job looks at it later.
      onWaiting: (record, cutOff) => {
        if (cutOff) void this.#direct(record);
      },
      onFreed: () => this.#cap.release(),
    });
  }

  async queued(record: InvocationRecord): Promise<void> {
    await this.#add(record);
  }

  async queuedMany(records: readonly InvocationRecord[]): Promise<void> {
    const [first] = records;
    if (!first) return;
    this.#consume(first.function);
    await this.#o.queue.addMany(
      first.function,
      records.map((record) => record.id),
      first.runAt - this.#o.clock.now(),
    );
  }

  ended(record: InvocationRecord): void {
    this.#o.onFinal(record);
    void this.#o.queue.remove(record.function, record.id);
  }

  async recover(): Promise<void> {
    await this.#runner.recover();
    this.#consumeEach();
    await this.#sweep();
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#o.queue.stopTaking();
    clearTimeout(this.#sweepTimer);
    this.#runner.close();
    this.#cap.close();
  }

  async #direct(record: InvocationRecord): Promise<void> {
    try {
      const next = await this.#handle(record.id);
      if (next !== null) await this.#o.queue.add(record.function, record.id, next);
    } catch (err) {
      this.#o.log(`invocation ${record.id}: cannot run it again now (${String(err)}); its job will`);
    }
  }

  #add(record: InvocationRecord): Promise<void> {
    this.#consume(record.function);
    return this.#o.queue.add(record.function, record.id, record.runAt - this.#o.clock.now());
  }

  /** Takes the jobs of every function this node knows (each node takes from every queue). */
  #consumeEach(): void {
    for (const fn of this.#o.registry.list()) this.#consume(fn.name);
  }

  #consume(name: string): void {
    const concurrency = Math.min(this.#o.maxRunning, this.#concurrencyOf(name));
    this.#o.queue.consume(name, { concurrency, lockMs: this.#o.lease.ms }, (id) => this.#handle(id));
    this.#o.queue.setConcurrency(name, concurrency);
  }

  #concurrencyOf(name: string): number {
    try {
      return this.#o.registry.resolve(name).config.concurrency ?? Infinity;
    } catch {
      return Infinity;
    }
  }

  /**
   * Every so often: due invocations whose job is missing get one (adding one that is there is a
   * no-op), and the functions deployed since through other nodes get their queue taken here.
   */
  async #sweep(): Promise<void> {
    if (this.#closed) return;
    try {
      this.#consumeEach();
      for (const record of await this.#o.store.due(this.#o.clock.now(), SWEEP_LIMIT, [])) await this.#add(record);
    } catch (err) {
      this.#o.log(`cannot look for queued invocations without a job: ${String(err)}`);
    } finally {
      if (!this.#closed) this.#sweepTimer = setTimeout(() => void this.#sweep(), SWEEP_EVERY_MS).unref();
    }
  }

  /** One job of invocation `id`: what to do with it now, and when to look at it again. */
  async #handle(id: string): Promise<JobNext> {
    if (this.#closed || !this.#o.mayTakeWork()) return RECHECK_MS;
    const record = await this.#o.store.get(id);
    if (!record || isFinal(record)) return null;
    if (record.status === 'running') {
      // Its attempt runs elsewhere, or ran on a node that died: the lease decides (reclaim).
      if (!this.#runner.isRunning(id)) void this.#runner.reclaim();
      return RECHECK_MS;
    }
    const wait = record.runAt - this.#o.clock.now();
    if (wait > 0) return wait;
    const slot = await this.#slotFor(record);
    if (slot === 'refused') return SLOT_RETRY_MS;
    await this.#cap.acquire();
    // Until the runner has the attempt, what was taken for it goes back here.
    const giveBack = () => {
      this.#cap.release();
      slot?.();
    };
    if (this.#closed) {
      giveBack();
      return RECHECK_MS;
    }
    const [claim] = await this.#o.store.claim([id], this.#o.lease, this.#o.clock.now()).catch((err: unknown) => {
      giveBack();
      throw err;
    });
    if (!claim) {
      // Changed since it was read (cancelled, or claimed through the store by another): read again.
      giveBack();
      return 0;
    }
    const stored = await this.#runner.start(claim, record, slot);
    if (!stored) return RECHECK_MS;
    return isWaitingStatus(stored.status) ? Math.max(0, stored.runAt - this.#o.clock.now()) : null;
  }

  /**
   * A concurrency slot for an invocation of a function (an instance's method takes none),
   * waited for here a while: a slot held on this node comes free when its call ends, one held
   * on another node is asked for again every SLOT_RETRY_MS.
   */
  async #slotFor(record: InvocationRecord): Promise<Release | undefined | 'refused'> {
    const version = record.instance === null ? versionOf(this.#o.registry, record) : undefined;
    if (!version) return undefined;
    const until = Date.now() + SLOT_HOLD_MS;
    for (;;) {
      const [slot] = this.#o.invoker.hasCapacity(version, 0) ? await this.#o.invoker.reserve(version, 1) : [];
      if (slot) return slot;
      if (this.#closed || Date.now() >= until) return 'refused';
      await new Promise((resolve) => setTimeout(resolve, SLOT_RETRY_MS));
    }
  }
}
