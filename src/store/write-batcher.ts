// Group commit for the embedded backend: the writes asked for in one turn of the event loop run in
// one SQLite transaction, so a burst of N submissions or N state changes costs one fsync instead
// of N. Each caller's promise settles only after the transaction holding its write has committed;
// an acknowledgement waits for that, so nothing is acknowledged that is not durable. On a
// synchronous=NORMAL connection "committed" includes the WAL sync run off the event
// loop (wal-sync.ts); on a FULL one, SQLite's COMMIT has synced already.
import type { SqliteDatabase } from './database.js';

/** What makes a commit durable when the connection's COMMIT does not (wal-sync.ts). */
export interface CommitSync {
  /** Resolves once everything committed before the call is on disk. */
  sync(): Promise<void>;
  /** Whether some commit may not be on disk yet. */
  readonly pending: boolean;
}

interface Waiting {
  work: () => unknown;
  resolve: (value: unknown) => void;
  reject: (err: unknown) => void;
}

export class WriteBatcher {
  readonly #db: SqliteDatabase;
  readonly #wal: CommitSync | undefined;
  #batch: Waiting[] = [];

  /** `wal`: syncs `db`'s commits, when `db` runs with synchronous=NORMAL. */
  constructor(db: SqliteDatabase, wal?: CommitSync) {
    this.#db = db;
    this.#wal = wal;
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

  /**
   * Resolves once every commit so far is on disk. A read that answers a client waits for it: the
   * rows of a commit are visible before its WAL sync ends, and no one may be shown (or have a
   * replay answered from) what a power loss could still take back.
   */
  async durable(): Promise<void> {
    if (this.#wal?.pending) await this.#wal.sync();
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
    const settle = () =>
      batch.forEach((waiting, index) => {
        const outcome = outcomes[index]!;
        if (outcome.ok) waiting.resolve(outcome.value);
        else waiting.reject(outcome.value);
      });
    if (!this.#wal) settle();
    // A failed sync leaves it unknown whether the writes would survive a power loss: none of them is acknowledged.
    else this.#wal.sync().then(settle, (err: unknown) => batch.forEach((waiting) => waiting.reject(err)));
  }

  #run(work: () => unknown): { ok: boolean; value: unknown } {
    try {
      return { ok: true, value: work() };
    } catch (err) {
      return { ok: false, value: err };
    }
  }
}
