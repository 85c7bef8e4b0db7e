// A cap on how many asynchronous attempts run at once on this node, whichever function's queue
// they came from: a job past the cap waits its turn, first come first served.
export class RunningCap {
  readonly #max: number;
  #taken = 0;
  readonly #waiting: (() => void)[] = [];

  constructor(max: number) {
    this.#max = max;
  }

  acquire(): Promise<void> {
    if (this.#taken < this.#max) {
      this.#taken++;
      return Promise.resolve();
    }
    return new Promise((resolve) => this.#waiting.push(resolve));
  }

  release(): void {
    const next = this.#waiting.shift();
    if (next) next();
    else this.#taken = Math.max(0, this.#taken - 1);
  }

  /** Lets every waiter through: they find the dispatcher closed and give their job back. */
  close(): void {
    for (const next of this.#waiting.splice(0)) next();
  }
}
