// Trigger records, secrets included, as the operations triggers need: each one atomic, so that
// several nodes on one store (cluster mode) cannot lose a rotation or move a schedule backwards.
import type { SqliteDatabase } from './database.js';
import type { CronTriggerRecord, TriggerRecord, TriggerSecret, WebhookTriggerRecord } from './records.js';

/** Implementations: SQLite (below) and Redis (redis-trigger-store.ts), held to test/store/conformance. */
export interface TriggerStore {
  create(record: TriggerRecord): Promise<void>;
  get(id: string): Promise<TriggerRecord | undefined>;
  /** A function's triggers, in the order they were made. */
  list(fn: string): Promise<TriggerRecord[]>;
  /** Every cron trigger, for the scheduler to arm. */
  crons(): Promise<CronTriggerRecord[]>;
  /** False when there was no such trigger. */
  delete(id: string): Promise<boolean>;
  /**
   * Makes `secret` the current one; each other secret still valid at `now` stays accepted until
   * `until` at the latest. Undefined when there is no such webhook trigger.
   */
  rotateSecret(id: string, secret: string, now: number, until: number): Promise<WebhookTriggerRecord | undefined>;
  /**
   * Records that the cron trigger handled scheduled time `at` (and which invocation ran it).
   * The schedule only moves forward: an `at` before the one recorded changes nothing. False
   * when there is no such cron trigger.
   */
  recordScheduled(id: string, at: number, invocationId: string | null): Promise<boolean>;
}

/** The secrets after a rotation; the one rule both backends apply (Redis in Lua, mirroring it). */
export function rotatedSecrets(secrets: readonly TriggerSecret[], secret: string, now: number, until: number): TriggerSecret[] {
  return [
    { secret, expiresAt: null },
    ...secrets.filter((s) => s.expiresAt === null || s.expiresAt > now).map((s) => ({ secret: s.secret, expiresAt: Math.min(s.expiresAt ?? until, until) })),
  ];
}

const parse = (row: unknown): TriggerRecord | undefined => (row ? (JSON.parse((row as { record: string }).record) as TriggerRecord) : undefined);

export class SqliteTriggerStore implements TriggerStore {
  readonly #sql;

  constructor(db: SqliteDatabase) {
    this.#sql = {
      insert: db.prepare('INSERT INTO triggers (id, function, record) VALUES (?, ?, ?)'),
      update: db.prepare('UPDATE triggers SET record = ? WHERE id = ?'),
      get: db.prepare('SELECT record FROM triggers WHERE id = ?'),
      list: db.prepare('SELECT record FROM triggers WHERE function = ? ORDER BY rowid'),
      all: db.prepare('SELECT record FROM triggers ORDER BY rowid'),
      delete: db.prepare('DELETE FROM triggers WHERE id = ?'),
    };
  }

  async create(record: TriggerRecord): Promise<void> {
    this.#sql.insert.run(record.id, record.function, JSON.stringify(record));
  }

  async get(id: string): Promise<TriggerRecord | undefined> {
    return parse(this.#sql.get.get(id));
  }

  async list(fn: string): Promise<TriggerRecord[]> {
    return this.#sql.list.all(fn).map((row) => parse(row)!);
  }

  async crons(): Promise<CronTriggerRecord[]> {
    return this.#sql.all
      .all()
      .map((row) => parse(row)!)
      .filter((record): record is CronTriggerRecord => record.type === 'cron');
  }

  async delete(id: string): Promise<boolean> {
    return this.#sql.delete.run(id).changes > 0;
  }

  // Read and write in one synchronous turn: nothing else runs on this database in between.
  async rotateSecret(id: string, secret: string, now: number, until: number): Promise<WebhookTriggerRecord | undefined> {
    const record = parse(this.#sql.get.get(id));
    if (record?.type !== 'webhook') return undefined;
    record.secrets = rotatedSecrets(record.secrets, secret, now, until);
    this.#sql.update.run(JSON.stringify(record), id);
    return record;
  }

  async recordScheduled(id: string, at: number, invocationId: string | null): Promise<boolean> {
    const record = parse(this.#sql.get.get(id));
    if (record?.type !== 'cron') return false;
    if (at < (record.lastScheduledAt ?? -Infinity)) return true;
    record.lastScheduledAt = at;
    record.lastInvocationId = invocationId;
    this.#sql.update.run(JSON.stringify(record), id);
    return true;
  }
}
