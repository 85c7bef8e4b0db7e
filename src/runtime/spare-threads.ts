// Booted, empty instance threads kept ready, so creating or resuming an instance skips the thread
// boot (most of its start time). One spare per heap size recently asked for, since the heap cap
// is fixed at boot. A spare taken is replaced by refill(), which the caller runs once its own
// thread is up, so the replacement's boot does not compete with it for the cores.
import { InstanceThread } from './instance-thread.js';

/** How many heap sizes keep a spare; each spare is an idle thread (~7 MB). */
const SIZES_KEPT = 2;

export class SpareThreads {
  readonly #spares = new Map<number, InstanceThread>();
  #closed = false;

  /** A booted thread with this heap cap: a spare if one is ready, otherwise a new one. */
  take(memoryMb: number): InstanceThread {
    const spare = this.#spares.get(memoryMb);
    this.#spares.delete(memoryMb);
    return spare?.alive ? spare : new InstanceThread(memoryMb);
  }

  /** Boots a spare of this size unless one is there. */
  refill(memoryMb: number): void {
    if (this.#closed || this.#spares.get(memoryMb)?.alive) return;
    this.#keep(memoryMb);
  }

  /** Stops every spare; take() still works but keeps none. Idempotent. */
  async close(): Promise<void> {
    this.#closed = true;
    const spares = [...this.#spares.values()];
    this.#spares.clear();
    await Promise.all(spares.map((spare) => spare.terminate()));
  }

  #keep(memoryMb: number): void {
    this.#spares.set(memoryMb, new InstanceThread(memoryMb));
    // The oldest size asked for gives its spare up first.
    while (this.#spares.size > SIZES_KEPT) {
      const [oldest, spare] = this.#spares.entries().next().value as [number, InstanceThread];
      this.#spares.delete(oldest);
      void spare.terminate();
    }
  }
}
