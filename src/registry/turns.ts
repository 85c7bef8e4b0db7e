/**
 * A bounded number of holders at once, the others served in arrival order. The inspector uses it
 * to run at most a few load checks (each a process start) at a time.
 */
export class Turns {
  #free: number;
  readonly #waiting: { resolve: () => void; reject: (err: Error) => void }[] = [];

  constructor(size: number) {
    this.#free = size;
  }

  acquire(): Promise<void> {
    if (this.#free > 0) {
      this.#free--;
      return Promise.resolve();
    }
    return new Promise((resolve, reject) => this.#waiting.push({ resolve, reject }));
  }

  release(): void {
    const next = this.#waiting.shift();
    if (next) next.resolve();
    else this.#free++;
  }

  /** Rejects every waiter with `err`; those holding a turn keep it until they release it. */
  refuseWaiting(err: Error): void {
    for (const waiter of this.#waiting.splice(0)) waiter.reject(err);
  }
}
