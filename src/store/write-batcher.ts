// Group commit for the embedded backend: the writes asked for in one turn of the event loop run in
// one SQLite transaction, so a burst of N submissions or N state changes costs one fsync instead
// of N. Each caller's promise settles only after the transaction holding its write has committed;
// an acknowledgement waits for that, so nothing is acknowledged that is not durable.
import type { SqliteDatabase } from './database.js';

interface Waiting {
  work: () => unknown;
  resolve: (value: unknown) => void;
  reject: (err: unknown) => void;
}

export class WriteBatcher {
  readonly #db: SqliteDatabase;
  #batch: Waiting[] = [];

  constructor(db: SqliteDatabase) {
    this.#db = db;
  }

  /**
   * Runs `work` (synchronous reads and writes of the database) in the next group transaction,
   * after the work asked for before it; resolves with its value once committed. A `work` that
   * throws fails alone and the others in its batch still commit, so a work must decide whether
   * it can go ahead before it writes anything.
   */
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
    let outcomes: { ok: boolean; value: unknown }[];
    try {
      outcomes = this.#db.transaction(() => batch.map((waiting) => this.#run(waiting.work)))();
    } catch (err) {
      for (const waiting of batch) waiting.reject(err);
      return;
    }
    batch.forEach((waiting, index) => {
      const outcome = outcomes[index]!;
      if (outcome.ok) waiting.resolve(outcome.value);
      else waiting.reject(outcome.value);
    });
  }

  #run(work: () => unknown): { ok: boolean; value: unknown } {
    try {
      return { ok: true, value: work() };
    } catch (err) {
      return { ok: false, value: err };
    }
  }
}
