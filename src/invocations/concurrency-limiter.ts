/** Counts calls in flight per key and refuses one past the key's limit. */
export class ConcurrencyLimiter {
  readonly #counts = new Map<string, number>();
  #total = 0;

  /** Returns a release function, or undefined when `key` is at `limit`. */
  acquire(key: string, limit: number): (() => void) | undefined {
    const current = this.#counts.get(key) ?? 0;
    if (current >= limit) return undefined;
    this.#counts.set(key, current + 1);
    this.#total++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.#total--;
      const left = (this.#counts.get(key) ?? 1) - 1;
      if (left === 0) this.#counts.delete(key);
      else this.#counts.set(key, left);
    };
  }

  count(key: string): number {
    return this.#counts.get(key) ?? 0;
  }

  get total(): number {
    return this.#total;
  }
}
