// The batch store of the embedded backend: a row per batch beside its members' rows in the
// invocations table (batch_id, batch_index). A batch and its members are written in one work of
// the group-commit batcher the invocation store uses, so they commit in one transaction.
import type { SqliteDatabase } from './database.js';
import { BatchChanges, batchScope, callbackPending as pending, noCounts, type BatchChange, type BatchStore, type StatusCounts, type SubmittedBatch } from './batch-store.js';
import type { BatchRecord, InvocationRecord, InvocationStatus } from './records.js';
import type { SqliteInvocationStore } from './sqlite-invocation-store.js';
import type { WriteBatcher } from './write-batcher.js';

const parse = (row: { record: string } | undefined): BatchRecord | undefined => (row ? (JSON.parse(row.record) as BatchRecord) : undefined);

export class SqliteBatchStore extends BatchChanges implements BatchStore {
  readonly #db: SqliteDatabase;
  readonly #writes: WriteBatcher;
  readonly #invocations: SqliteInvocationStore;
  readonly #sql;

  constructor(db: SqliteDatabase, writes: WriteBatcher, invocations: SqliteInvocationStore) {
    super();
    this.#db = db;
    this.#writes = writes;
    this.#invocations = invocations;
    this.#sql = {
      insert: db.prepare(
        `INSERT INTO batches (id, function, idempotency_scope, idempotency_key, created_at, finished_at, callback_pending, record)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
      ),
      byKey: db.prepare('SELECT record FROM batches WHERE idempotency_scope = ? AND idempotency_key = ?'),
      get: db.prepare('SELECT record FROM batches WHERE id = ?'),
      update: db.prepare('UPDATE batches SET finished_at = ?, callback_pending = ?, record = ? WHERE id = ?'),
      members: db.prepare('SELECT record FROM invocations WHERE batch_id = ? AND batch_index >= ? ORDER BY batch_index LIMIT ?'),
      counts: db.prepare('SELECT status, COUNT(*) AS n FROM invocations WHERE batch_id = ? GROUP BY status'),
      open: db.prepare('SELECT record FROM batches WHERE finished_at IS NULL OR callback_pending = 1 ORDER BY created_at LIMIT ?'),
      purge: db.prepare('DELETE FROM batches WHERE finished_at < ? AND callback_pending = 0'),
    };
  }

  submit(batch: BatchRecord, members: readonly InvocationRecord[]): Promise<SubmittedBatch> {
    return this.#writes.write(() => {
      // A savepoint inside the batcher's transaction: a failure undoes this batch's writes only.
      this.#db.exec('SAVEPOINT batch_submit');
      try {
        const stored = this.#insert(batch, members);
        this.#db.exec('RELEASE batch_submit');
        return stored;
      } catch (err) {
        this.#db.exec('ROLLBACK TO batch_submit; RELEASE batch_submit');
        throw err;
      }
    });
  }

  #insert(batch: BatchRecord, members: readonly InvocationRecord[]): SubmittedBatch {
    const scope = batch.idempotencyKey === null ? null : batchScope(batch);
    const { changes } = this.#sql.insert.run(batch.id, batch.function, scope, batch.idempotencyKey, batch.createdAt, batch.finishedAt, pending(batch), JSON.stringify(batch));
    if (changes === 0) {
      const existing = parse(this.#sql.byKey.get(scope, batch.idempotencyKey) as { record: string } | undefined);
      if (!existing) throw new Error(`batch ${batch.id} is already stored`);
      return { batch: existing, existed: true };
    }
    for (const member of members) this.#invocations.insertMember(member);
    return { batch, existed: false };
  }

  async get(id: string): Promise<BatchRecord | undefined> {
    return parse(this.#sql.get.get(id) as { record: string } | undefined);
  }

  async members(id: string, from: number, limit: number): Promise<InvocationRecord[]> {
    await this.#invocations.claimsCommitted();
    return (this.#sql.members.all(id, from, limit) as { record: string }[]).map((row) => JSON.parse(row.record) as InvocationRecord);
  }

  async counts(id: string): Promise<StatusCounts> {
    await this.#invocations.claimsCommitted();
    const counts = noCounts();
    for (const row of this.#sql.counts.all(id) as { status: InvocationStatus; n: number }[]) counts[row.status] = row.n;
    return counts;
  }

  async open(limit: number): Promise<BatchRecord[]> {
    return (this.#sql.open.all(limit) as { record: string }[]).map((row) => JSON.parse(row.record) as BatchRecord);
  }

  purgeFinishedBefore(time: number): Promise<number> {
    return this.#writes.write(() => this.#sql.purge.run(time).changes);
  }

  /** Reads, changes and writes the batch in one work; yields it when `change` said it changed. */
  protected change(id: string, change: BatchChange): Promise<BatchRecord | undefined> {
    return this.#writes.write(() => {
      const batch = parse(this.#sql.get.get(id) as { record: string } | undefined);
      if (!batch || !change(batch)) return undefined;
      this.#sql.update.run(batch.finishedAt, pending(batch), JSON.stringify(batch), id);
      return batch;
    });
  }
}

