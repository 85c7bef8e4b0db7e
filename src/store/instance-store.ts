import { WispError } from '../errors.js';
import type { SqliteDatabase } from './database.js';
import type { InstanceRecord } from './records.js';

/** Instance records. Implementations: embedded SQLite (below) and Redis (redis-instance-store.ts). */
export interface InstanceStore {
  /**
   * Stores a new record, unless it has a name that its function's instances already use: then
   * nothing is written and the stored one comes back (`created: false`). Get-or-create by name
   * is this one step, so that two creators of one name never both win.
   */
  create(record: InstanceRecord): Promise<{ created: boolean; record: InstanceRecord }>;
  /** The stored record; null when there is none. */
  get(id: string): Promise<InstanceRecord | null>;
  /**
   * Replaces the record of an instance (one durable write), if the stored one has the same epoch:
   * else (another node claimed it since, or it was deleted) nothing is written and it throws
   * STALE_OWNER.
   */
  save(record: InstanceRecord): Promise<void>;
  /**
   * Makes `node` the owner, with the next epoch, if the stored epoch is still `epoch` (one of
   * several claimers wins); the claimed record, or null when it was claimed meanwhile or is gone.
   */
  claim(id: string, epoch: number, node: string): Promise<InstanceRecord | null>;
  /** Deletes the record; with `epoch`, only if the stored one has it (else STALE_OWNER, nothing deleted). */
  delete(id: string, epoch?: number): Promise<void>;
  /** In the order they were created. */
  list(): Promise<InstanceRecord[]>;
}

/**
 * The statement that writes one instance record, as one JSON document with function and name as
 * columns for the unique index. The group store writes members inside its own transaction with it.
 */
export function prepareInstanceSave(db: SqliteDatabase): (record: InstanceRecord) => void {
  // An upsert, not INSERT OR REPLACE: that would delete the row and give it a new rowid, which
  // is the creation order list() keeps.
  const save = db.prepare(
    'INSERT INTO instances (id, function, name, record) VALUES (?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET function = excluded.function, name = excluded.name, record = excluded.record',
  );
  return (record) => void save.run(record.id, record.function, record.name, JSON.stringify(record));
}

/** The epoch of a record: 0 for one written before epochs were. */
export const epochOf = (record: Pick<InstanceRecord, 'epoch'>): number => record.epoch ?? 0;

export const staleOwner = (id: string): WispError =>
  new WispError('STALE_OWNER', `instance ${id} was claimed by another node (or deleted) since this node read it; this node's copy of it stops`);

/** The epoch as SQL sees it in the record's JSON. */
const EPOCH = "coalesce(json_extract(record, '$.epoch'), 0)";

/** Instance records in the embedded store. */
export class SqliteInstanceStore implements InstanceStore {
  readonly #save;
  readonly #get;
  readonly #claim;
  readonly #insert;
  readonly #named;
  readonly #delete;
  readonly #list;

  constructor(db: SqliteDatabase) {
    this.#save = db.prepare(`UPDATE instances SET function = ?, name = ?, record = ? WHERE id = ? AND ${EPOCH} = ?`);
    this.#get = db.prepare('SELECT record FROM instances WHERE id = ?');
    this.#claim = db.prepare(`UPDATE instances SET record = json_set(record, '$.node', ?, '$.epoch', ${EPOCH} + 1) WHERE id = ? AND ${EPOCH} = ? RETURNING record`);
    this.#insert = db.prepare('INSERT INTO instances (id, function, name, record) VALUES (?, ?, ?, ?) ON CONFLICT (function, name) WHERE name IS NOT NULL DO NOTHING');
    this.#named = db.prepare('SELECT record FROM instances WHERE function = ? AND name = ?');
    this.#delete = db.prepare(`DELETE FROM instances WHERE id = ? AND (? IS NULL OR ${EPOCH} = ?)`);
    this.#list = db.prepare('SELECT record FROM instances ORDER BY rowid');
  }

  async create(record: InstanceRecord): Promise<{ created: boolean; record: InstanceRecord }> {
    const { changes } = this.#insert.run(record.id, record.function, record.name, JSON.stringify(record));
    if (changes === 1) return { created: true, record };
    const row = this.#named.get(record.function, record.name) as { record: string };
    return { created: false, record: JSON.parse(row.record) as InstanceRecord };
  }

  async get(id: string): Promise<InstanceRecord | null> {
    const row = this.#get.get(id) as { record: string } | undefined;
    return row ? (JSON.parse(row.record) as InstanceRecord) : null;
  }

  async save(record: InstanceRecord): Promise<void> {
    const { changes } = this.#save.run(record.function, record.name, JSON.stringify(record), record.id, epochOf(record));
    if (changes === 0) throw staleOwner(record.id);
  }

  async claim(id: string, epoch: number, node: string): Promise<InstanceRecord | null> {
    const row = this.#claim.get(node, id, epoch) as { record: string } | undefined;
    return row ? (JSON.parse(row.record) as InstanceRecord) : null;
  }

  async delete(id: string, epoch?: number): Promise<void> {
    const { changes } = this.#delete.run(id, epoch ?? null, epoch ?? null);
    if (changes === 0 && epoch !== undefined && this.#get.get(id)) throw staleOwner(id);
  }

  async list(): Promise<InstanceRecord[]> {
    return (this.#list.all() as { record: string }[]).map((row) => JSON.parse(row.record) as InstanceRecord);
  }
}
