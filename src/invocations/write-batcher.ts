// Group commit: the store writes asked for in one turn of the event loop run in one transaction,
// so a burst of N submissions or N state changes costs one fsync instead of N. Each caller's
// promise settles only after the transaction holding its write has committed; an acknowledgement
// waits for that, so nothing is acknowledged that is not durable.
import type { InvocationStore } from '../store/invocation-store.js';

interface Waiting {
  work: () => unknown;
  resolve: (value: unknown) => void;
  reject: (err: unknown) => void;
}

export class WriteBatcher {
  readonly #store: InvocationStore;
  #batch: Waiting[] = [];

  constructor(store: InvocationStore) {
    this.#store = store;
  }

  /** Runs `work` (store writes) in the next group transaction; resolves with its value once committed. */
  write<T>(work: () => T): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      if (this.#batch.length === 0) setImmediate(() => this.#flush());
      this.#batch.push({ work, resolve: resolve as (value: unknown) => void, reject });
    });
  }

  /** Resolves once every write asked for so far has committed (or failed). */
  async flushed(): Promise<void> {
    if (this.#batch.length > 0) await this.write(() => undefined).catch(() => undefined);
  }

  #flush(): void {
    const batch = this.#batch;
    this.#batch = [];
    let values: unknown[];
    try {
      values = this.#store.transaction(() => batch.map((waiting) => waiting.work()));
    } catch (err) {
      for (const waiting of batch) waiting.reject(err);
      return;
    }
    batch.forEach((waiting, index) => waiting.resolve(values[index]));
  }
}
