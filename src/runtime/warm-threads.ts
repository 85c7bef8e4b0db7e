// Booted, empty instance threads kept ready, so creating or resuming an instance skips the thread
// boot (most of its start time). The heap cap is fixed at boot, so threads are kept per heap size,
// for the sizes most recently asked for. How many of a size: as many as were taken in the last
// RATE_WINDOW_MS (at least one, at most `maxThreads` over all sizes; 0 keeps none), so that a burst of creates
// finds threads booted for it once the node has seen one, and a quiet node keeps one per size.
// A thread taken is replaced by refill(), which the caller runs once its own thread is up. The
// replacements boot one after another, once creates have paused for QUIET_MS: a boot beside a
// create makes it slower, and during a burst the threads kept are what serves it. A size with no
// thread left gets one at once, once the create that took it has been answered (a steady
// stream of creates never pauses that long).
import { InstanceThread } from './instance-thread.js';

/** How many heap sizes keep threads. */
const SIZES_KEPT = 2;
/** Starts counted for the target: this recent. */
const RATE_WINDOW_MS = 10_000;
/** Replacements wait for creates to pause this long (by default). */
const QUIET_MS = 100;
/** How often threads above the target (the rate fell) are stopped. */
const TRIM_EVERY_MS = 5_000;

export interface WarmThreadsOptions {
  /** The most threads kept booted, over all sizes; each costs ~7 MB of RSS idle. */
  maxThreads: number;
  /** How long creates must pause before replacements boot; QUIET_MS unless a test says. */
  quietMs?: number;
  /** Boots a thread (tests count them). */
  boot?: (memoryMb: number) => InstanceThread;
  now?: () => number;
}

interface Size {
  /** Booted or booting, oldest first. */
  threads: InstanceThread[];
  /** When threads were taken, oldest first, within RATE_WINDOW_MS. */
  taken: number[];
}

export class WarmThreads {
  readonly #o: Required<WarmThreadsOptions>;
  /** By heap size, least recently asked for first. */
  readonly #sizes = new Map<number, Size>();
  readonly #trimTimer: NodeJS.Timeout;
  /** A boot is under way: the next waits for it (see #pump). */
  #booting = false;
  #quietTimer: NodeJS.Timeout | undefined;
  #closed = false;

  constructor(options: WarmThreadsOptions) {
    this.#o = { boot: (memoryMb) => new InstanceThread(memoryMb), now: () => performance.now(), quietMs: QUIET_MS, ...options };
    this.#trimTimer = setInterval(() => this.trim(), TRIM_EVERY_MS).unref();
  }

  /** A booted thread with this heap cap: a kept one if there is one, otherwise a new one. */
  take(memoryMb: number): InstanceThread {
    const size = this.#size(memoryMb);
    size.taken.push(this.#o.now());
    for (let thread = size.threads.shift(); thread; thread = size.threads.shift()) {
      if (thread.alive) return thread;
    }
    return this.#o.boot(memoryMb);
  }

  /** Boots threads of this size, one after another, up to its target. */
  refill(memoryMb: number): void {
    if (this.#closed) return;
    // None kept: the next create would boot one anyway, and sooner is better than on demand.
    // Not in this turn, though: new Worker() blocks this thread for 1-3 ms, and the caller is
    // about to answer the create that took the last thread.
    if (prune(this.#size(memoryMb)) === 0) {
      setImmediate(() => this.#pump());
      return;
    }
    clearTimeout(this.#quietTimer);
    this.#quietTimer = setTimeout(() => this.#pump(), this.#o.quietMs).unref();
  }

  /** How many threads are kept (booted or booting), by heap size. */
  kept(): Map<number, number> {
    return new Map([...this.#sizes].map(([memoryMb, size]) => [memoryMb, size.threads.length]));
  }

  /** Stops every kept thread; take() still works but keeps none. Idempotent. */
  async close(): Promise<void> {
    this.#closed = true;
    clearInterval(this.#trimTimer);
    clearTimeout(this.#quietTimer);
    const threads = [...this.#sizes.values()].flatMap((size) => size.threads.splice(0));
    await Promise.all(threads.map((thread) => thread.terminate()));
  }

  /** The size's entry, now the most recently asked for; the oldest sizes beyond SIZES_KEPT give theirs up. */
  #size(memoryMb: number): Size {
    const size = this.#sizes.get(memoryMb) ?? { threads: [], taken: [] };
    this.#sizes.delete(memoryMb);
    this.#sizes.set(memoryMb, size);
    while (this.#sizes.size > SIZES_KEPT) {
      const [oldest, dropped] = this.#sizes.entries().next().value as [number, Size];
      this.#sizes.delete(oldest);
      for (const thread of dropped.threads) void thread.terminate();
    }
    return size;
  }

  /** How many threads of this size to keep: those taken lately, shared out within maxThreads. */
  #targets(): Map<number, number> {
    const since = this.#o.now() - RATE_WINDOW_MS;
    const keepsNone = this.#o.maxThreads === 0;
    const wanted = new Map<number, number>();
    for (const [memoryMb, size] of this.#sizes) {
      while (size.taken.length > 0 && size.taken[0]! < since) size.taken.shift();
      wanted.set(memoryMb, keepsNone ? 0 : Math.max(1, size.taken.length));
    }
    const total = [...wanted.values()].reduce((sum, n) => sum + n, 0);
    if (total <= this.#o.maxThreads) return wanted;
    // Over the cap: each size gets its share, and at least one.
    const scale = this.#o.maxThreads / total;
    return new Map([...wanted].map(([memoryMb, n]) => [memoryMb, Math.max(1, Math.floor(n * scale))]));
  }

  /** Boots the next thread some size is short of, then (once it runs) the one after. */
  #pump(): void {
    if (this.#booting || this.#closed) return;
    const targets = this.#targets();
    // The most recently asked for size first.
    const short = [...this.#sizes].reverse().find(([memoryMb, size]) => prune(size) < targets.get(memoryMb)!);
    if (!short) return;
    const [memoryMb, size] = short;
    const thread = this.#o.boot(memoryMb);
    size.threads.push(thread);
    this.#booting = true;
    void thread.booted.finally(() => {
      this.#booting = false;
      this.#pump();
    });
  }

  /** Stops the threads of each size above its target (the rate fell), newest first; a timer runs it. */
  trim(): void {
    const targets = this.#targets();
    for (const [memoryMb, size] of this.#sizes) {
      const extra = prune(size) - targets.get(memoryMb)!;
      if (extra > 0) for (const thread of size.threads.splice(-extra)) void thread.terminate();
    }
  }
}

/** Drops the size's threads that died while kept; how many are left. */
function prune(size: Size): number {
  size.threads = size.threads.filter((thread) => thread.alive);
  return size.threads.length;
}
