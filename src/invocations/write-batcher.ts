// Group commit for submissions: the records submitted in one turn of the event loop are written
// in one transaction, so a burst of N submissions costs one fsync instead of N. Each caller's
// promise settles only after the transaction holding its record has committed.
import type { Inserted, InvocationStore } from '../store/invocation-store.js';
import type { InvocationRecord } from '../store/records.js';

interface Waiting {
  record: InvocationRecord;
  resolve: (inserted: Inserted) => void;
  reject: (err: unknown) => void;
}

export class WriteBatcher {
  readonly #store: InvocationStore;
  #batch: Waiting[] = [];

  constructor(store: InvocationStore) {
    this.#store = store;
  }

  insert(record: InvocationRecord): Promise<Inserted> {
    return new Promise((resolve, reject) => {
      if (this.#batch.length === 0) setImmediate(() => this.#flush());
      this.#batch.push({ record, resolve, reject });
    });
  }

  #flush(): void {
    const batch = this.#batch;
    this.#batch = [];
    let inserted: Inserted[];
    try {
      inserted = this.#store.insertAll(batch.map((waiting) => waiting.record));
    } catch (err) {
      for (const waiting of batch) waiting.reject(err);
      return;
    }
    batch.forEach((waiting, index) => waiting.resolve(inserted[index]!));
  }
}
