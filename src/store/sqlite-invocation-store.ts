// The invocation store of the embedded backend: one row per invocation (the record as JSON, the
// columns queries select on beside it), written through group commit. Every write runs inside
// one synchronous transaction of the batch, so a read-then-write (a claim, a cancel) is atomic.
import { randomUUID } from 'node:crypto';
import type { SqliteDatabase } from './database.js';
import {
  callbackAt,
  callbackStillDue,
  canRerun,
  idempotencyScope,
  isWaitingStatus,
  markClaimed,
  type Cancelled,
  type Claim,
  type InvocationQuery,
  type InvocationStore,
  type Lease,
  type Submitted,
} from './invocation-store.js';
import type { CallbackState, InvocationRecord, LogEntry } from './records.js';
import { WriteBatcher } from './write-batcher.js';

const parse = (row: { record: string } | undefined): InvocationRecord | undefined =>
  row ? (JSON.parse(row.record) as InvocationRecord) : undefined;
/** The values of SET_RECORD's columns for `record`. */
const columns = (record: InvocationRecord, json = JSON.stringify(record)) => [record.status, record.runAt, record.finishedAt, callbackAt(record), json];
const parseAll = (rows: unknown[]): InvocationRecord[] => (rows as { record: string }[]).map((row) => JSON.parse(row.record) as InvocationRecord);

const QUEUED = `status IN ('queued', 'retrying')`;
/** The record and the columns derived from it, in the order columns() gives their values. */
const SET_RECORD = 'status = ?, run_at = ?, finished_at = ?, callback_at = ?, record = ?';

export class SqliteInvocationStore implements InvocationStore {
  readonly #db: SqliteDatabase;
  readonly #writes: WriteBatcher;
  /** Claimed, and the claim not yet committed (see claim): id → the claimed record as JSON. */
  readonly #claiming = new Map<string, string>();
  /** Every fixed query, prepared once: the dispatcher runs several of them per pass. */
  readonly #sql;

  constructor(db: SqliteDatabase, writes: WriteBatcher) {
    this.#db = db;
    this.#writes = writes;
    this.#sql = {
      insert: db.prepare(
        `INSERT INTO invocations (id, function, status, run_at, created_at, finished_at, parent_id, idempotency_scope, idempotency_key, callback_at, record, logs, batch_id, batch_index, pending_key)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
      ),
      update: db.prepare(`UPDATE invocations SET ${SET_RECORD}, lease_owner = ?, lease_token = ?, lease_until = ? WHERE id = ?`),
      // The same, only while `lease_token` still holds the lease: an outcome's check and write in one statement.
      updateLeased: db.prepare(`UPDATE invocations SET ${SET_RECORD}, lease_owner = NULL, lease_token = NULL, lease_until = NULL WHERE id = ? AND lease_token = ?`),
      get: db.prepare('SELECT record FROM invocations WHERE id = ?'),
      byKey: db.prepare('SELECT record FROM invocations WHERE idempotency_scope = ? AND idempotency_key = ?'),
      byPendingKey: db.prepare('SELECT record FROM invocations WHERE pending_key = ?'),
      setRecord: db.prepare('UPDATE invocations SET record = ? WHERE id = ?'),
      setLogs: db.prepare('UPDATE invocations SET logs = ? WHERE id = ?'),
      logs: db.prepare('SELECT logs FROM invocations WHERE id = ?'),
      // INDEXED BY: left to itself the planner takes invocations_by_status, which reads and sorts
      // every queued row, so each pass cost time in proportion to the backlog (19 ms at 100,000
      // queued against 0.015 ms through the queue's own index).
      due: db.prepare(
        `SELECT record FROM invocations INDEXED BY invocations_due_in_order WHERE ${QUEUED} AND run_at <= ?
           AND function NOT IN (SELECT value FROM json_each(?)) ORDER BY run_at, created_at LIMIT ?`,
      ),
      claimable: db.prepare(`SELECT record FROM invocations WHERE id = ? AND ${QUEUED} AND run_at <= ?`),
      // A claim's write, only while the row is still waiting and due: the check and the write in one statement.
      storeClaim: db.prepare(
        `UPDATE invocations SET status = ?, record = ?, lease_owner = ?, lease_token = ?, lease_until = ? WHERE id = ? AND ${QUEUED} AND run_at <= ?`,
      ),
      nextRunAt: db.prepare(`SELECT MIN(run_at) AS at FROM invocations INDEXED BY invocations_due_in_order WHERE ${QUEUED}`),
      renew: db.prepare('UPDATE invocations SET lease_until = ? WHERE lease_token = ? AND lease_owner = ?'),
      // A running row without a lease was left by a version of Wisp from before leases.
      expired: db.prepare(
        `SELECT record FROM invocations WHERE status = 'running' AND (lease_until <= ? OR lease_until IS NULL OR (substr(lease_owner, 1, ?) = ? AND lease_owner != ?))`,
      ),
      children: db.prepare('SELECT record FROM invocations WHERE parent_id = ? ORDER BY created_at, id'),
      callbacksDue: db.prepare('SELECT record FROM invocations WHERE callback_at <= ? ORDER BY callback_at LIMIT ?'),
      pushCallback: db.prepare('UPDATE invocations SET callback_at = ? WHERE id = ?'),
      nextCallbackAt: db.prepare('SELECT MIN(callback_at) AS at FROM invocations WHERE callback_at IS NOT NULL'),
      purge: db.prepare('DELETE FROM invocations WHERE finished_at < ? AND callback_at IS NULL'),
    };
  }

  submit(record: InvocationRecord): Promise<Submitted> {
    return this.#writes.write(() => this.#insert(record, null));
  }

  recordFinished(record: InvocationRecord, logs: readonly LogEntry[]): Promise<void> {
    return this.#writes.write(() => void this.#insert(record, logs));
  }

  #insert(record: InvocationRecord, logs: readonly LogEntry[] | null): Submitted {
    const scope = record.idempotencyKey === null ? null : idempotencyScope(record);
    const { changes } = this.#sql.insert.run(
      record.id,
      record.function,
      record.status,
      record.runAt,
      record.createdAt,
      record.finishedAt,
      record.parentId,
      scope,
      record.idempotencyKey,
      callbackAt(record),
      JSON.stringify(record),
      logs && logs.length > 0 ? JSON.stringify(logs) : null,
      record.batchId ?? null,
      record.index ?? null,
      record.concurrencyKey ?? null,
    );
    if (changes === 1) return { record, existed: false };
    // The conflict was on the idempotency key, the concurrency key or (never, for a random UUID) the id.
    const replayed = scope === null ? undefined : parse(this.#sql.byKey.get(scope, record.idempotencyKey) as { record: string } | undefined);
    if (replayed) return { record: replayed, existed: true };
    const pending = record.concurrencyKey ? parse(this.#sql.byPendingKey.get(record.concurrencyKey) as { record: string } | undefined) : undefined;
    if (pending) return { record: pending, existed: true, pending: true };
    throw new Error(`invocation ${record.id} is already stored`);
  }

  /**
   * Stores a batch's member now: for the batch store, inside a write of the batcher the two
   * share, so that the batch and all its members commit in one transaction.
   */
  insertMember(record: InvocationRecord): void {
    this.#insert(record, null);
  }

  /** Resolves once no claim is waiting for its commit: until then a read of the table would show those claimed as queued. */
  async claimsCommitted(): Promise<void> {
    if (this.#claiming.size > 0) await this.#writes.flushed();
  }

  async get(id: string): Promise<InvocationRecord | undefined> {
    const claimed = this.#claiming.get(id);
    if (claimed !== undefined) return JSON.parse(claimed) as InvocationRecord;
    return this.#stored(id);
  }

  /** The record as committed. */
  #stored(id: string): InvocationRecord | undefined {
    return parse(this.#sql.get.get(id) as { record: string } | undefined);
  }

  async logs(id: string): Promise<LogEntry[] | undefined> {
    const row = this.#sql.logs.get(id) as { logs: string | null } | undefined;
    if (!row) return undefined;
    return row.logs === null ? [] : (JSON.parse(row.logs) as LogEntry[]);
  }

  async list(query: InvocationQuery): Promise<InvocationRecord[]> {
    // Claims not yet committed would be listed as still queued: the list waits for them.
    await this.claimsCommitted();
    const where: string[] = [];
    const params: unknown[] = [];
    if (query.function !== undefined) {
      where.push('function = ?');
      params.push(query.function);
    }
    if (query.status !== undefined) {
      where.push('status = ?');
      params.push(query.status);
    }
    if (query.before !== undefined) {
      where.push('(created_at, id) < (SELECT created_at, id FROM invocations WHERE id = ?)');
      params.push(query.before);
    }
    const sql = `SELECT record FROM invocations ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY created_at DESC, id DESC LIMIT ?`;
    return parseAll(this.#db.prepare(sql).all(...params, query.limit));
  }

  async children(parentId: string): Promise<InvocationRecord[]> {
    return parseAll(this.#sql.children.all(parentId));
  }

  async due(now: number, limit: number, skip: readonly string[]): Promise<InvocationRecord[]> {
    const rows = parseAll(this.#sql.due.all(now, JSON.stringify(skip), limit + this.#claiming.size));
    // Claimed already, though the claim is not committed yet: not due for anyone else.
    return (this.#claiming.size === 0 ? rows : rows.filter((record) => !this.#claiming.has(record.id))).slice(0, limit);
  }

  async nextRunAt(): Promise<number | undefined> {
    const row = this.#sql.nextRunAt.get() as { at: number | null };
    return row.at ?? undefined;
  }

  /**
   * Claims at once, from the rows as committed, and stores the claims in the next group commit
   * without waiting for it: on one node nothing else claims, and a claim lost with the process
   * leaves its invocation queued, to run again (at-least-once). Waiting would put a commit
   * between every finished attempt and the next one to start. Claims not yet committed are
   * kept here, so that a second claimer meanwhile does not win them too, and so that reading
   * one meanwhile shows it running, as its watchers are told.
   */
  async claim(ids: readonly string[], lease: Lease, now: number): Promise<Claim[]> {
    const claims: Claim[] = [];
    for (const id of ids) {
      if (this.#claiming.has(id)) continue;
      const record = parse(this.#sql.claimable.get(id, now) as { record: string } | undefined);
      if (!record) continue;
      markClaimed(record, now);
      const token = randomUUID();
      claims.push({ record, token });
      this.#claiming.set(id, JSON.stringify(record));
    }
    if (claims.length === 0) return claims;
    const snapshots = claims.map(({ record, token }) => ({ id: record.id, record, token }));
    const forget = () => snapshots.forEach(({ id }) => this.#claiming.delete(id));
    this.#writes
      .write(() => {
        for (const { id, record, token } of snapshots) {
          // As claimed, with a cancel asked for meanwhile. A write ahead of it in this batch
          // may have ended it: then the attempt's outcome is refused, for want of this lease.
          const json = this.#claiming.get(id);
          // A claim changes neither run_at, finished_at nor a callback: only what it sets here.
          if (json !== undefined) this.#sql.storeClaim.run(record.status, json, lease.owner, token, now + lease.ms, id, now);
        }
        // From here the rows themselves say so (or, if the commit fails, they stay queued).
        forget();
      })
      .catch(forget);
    return claims;
  }

  /** Stores `record` as leased to `lease.owner` under a new token. */
  #lease(record: InvocationRecord, lease: Lease, now: number): Claim {
    const token = randomUUID();
    this.#update(record, { owner: lease.owner, token, until: now + lease.ms });
    return { record, token };
  }

  #update(record: InvocationRecord, lease: { owner: string; token: string; until: number } | null, json = JSON.stringify(record)): void {
    this.#sql.update.run(...columns(record, json), lease?.owner ?? null, lease?.token ?? null, lease?.until ?? null, record.id);
  }

  renew(tokens: readonly string[], lease: Lease, now: number): Promise<string[]> {
    return this.#writes.write(() => tokens.filter((token) => this.#sql.renew.run(now + lease.ms, token, lease.owner).changes === 1));
  }

  settle(token: string, record: InvocationRecord, logs: readonly LogEntry[]): Promise<boolean> {
    return this.#writes.write(() => {
      const { changes } = this.#sql.updateLeased.run(...columns(record), record.id, token);
      if (changes !== 1) return false;
      this.#appendLogs(record.id, logs);
      return true;
    });
  }

  reclaim(lease: Lease, node: string, now: number): Promise<Claim[]> {
    const prefix = `${node}/`;
    return this.#writes.write(() =>
      parseAll(this.#sql.expired.all(now, prefix.length, prefix, lease.owner)).map((record) => this.#lease(record, lease, now)),
    );
  }

  cancel(id: string, end: (record: InvocationRecord) => void): Promise<Cancelled | undefined> {
    return this.#writes.write((): Cancelled | undefined => {
      const claimed = this.#claiming.get(id);
      if (claimed !== undefined) {
        // Claimed in this batch, not yet committed: running, as its claimer sees it.
        const record = JSON.parse(claimed) as InvocationRecord;
        record.cancelRequested = true;
        this.#claiming.set(id, JSON.stringify(record));
        return { outcome: 'running', record };
      }
      const record = this.#stored(id);
      if (!record) return undefined;
      if (isWaitingStatus(record.status)) {
        end(record);
        this.#update(record, null);
        return { outcome: 'cancelled', record };
      }
      if (record.status !== 'running') return { outcome: 'final', record };
      record.cancelRequested = true;
      // The lease stays with the attempt, which ends the invocation once it stops.
      this.#sql.setRecord.run(JSON.stringify(record), id);
      return { outcome: 'running', record };
    });
  }

  rerun(id: string, change: (record: InvocationRecord) => void): Promise<{ rerun: boolean; record: InvocationRecord } | undefined> {
    return this.#writes.write(() => {
      const record = this.#stored(id);
      if (!record) return undefined;
      if (!canRerun(record.status)) return { rerun: false, record };
      change(record);
      this.#update(record, null);
      return { rerun: true, record };
    });
  }

  claimCallbacks(now: number, limit: number, leaseMs: number): Promise<InvocationRecord[]> {
    return this.#writes.write(() => {
      const due = parseAll(this.#sql.callbacksDue.all(now, limit));
      for (const record of due) this.#sql.pushCallback.run(now + leaseMs, record.id);
      return due;
    });
  }

  async nextCallbackAt(): Promise<number | undefined> {
    const row = this.#sql.nextCallbackAt.get() as { at: number | null };
    return row.at ?? undefined;
  }

  settleCallback(id: string, attempts: number, state: CallbackState): Promise<InvocationRecord | undefined> {
    return this.#writes.write(() => {
      const record = this.#stored(id);
      if (!record || !callbackStillDue(record, attempts)) return undefined;
      record.callback = state;
      this.#update(record, null);
      return record;
    });
  }

  purgeFinishedBefore(time: number): Promise<number> {
    return this.#writes.write(() => this.#sql.purge.run(time).changes);
  }

  #appendLogs(id: string, entries: readonly LogEntry[]): void {
    if (entries.length === 0) return;
    const row = this.#sql.logs.get(id) as { logs: string | null } | undefined;
    const before = row?.logs ? (JSON.parse(row.logs) as LogEntry[]) : [];
    this.#sql.setLogs.run(JSON.stringify([...before, ...entries]), id);
  }
}
