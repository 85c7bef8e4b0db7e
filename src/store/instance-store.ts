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
  /** Replaces the record of an instance (one durable write). */
  save(record: InstanceRecord): Promise<void>;
  delete(id: string): Promise<void>;
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

/** Instance records in the embedded store. */
export class SqliteInstanceStore implements InstanceStore {
  readonly #save;
  readonly #insert;
  readonly #named;
  readonly #delete;
  readonly #list;

  constructor(db: SqliteDatabase) {
    this.#save = prepareInstanceSave(db);
    this.#insert = db.prepare('INSERT INTO instances (id, function, name, record) VALUES (?, ?, ?, ?) ON CONFLICT (function, name) WHERE name IS NOT NULL DO NOTHING');
    this.#named = db.prepare('SELECT record FROM instances WHERE function = ? AND name = ?');
    this.#delete = db.prepare('DELETE FROM instances WHERE id = ?');
    this.#list = db.prepare('SELECT record FROM instances ORDER BY rowid');
  }

  async create(record: InstanceRecord): Promise<{ created: boolean; record: InstanceRecord }> {
    const { changes } = this.#insert.run(record.id, record.function, record.name, JSON.stringify(record));
    if (changes === 1) return { created: true, record };
    const row = this.#named.get(record.function, record.name) as { record: string };
    return { created: false, record: JSON.parse(row.record) as InstanceRecord };
  }

  async save(record: InstanceRecord): Promise<void> {
    this.#save(record);
  }

  async delete(id: string): Promise<void> {
    this.#delete.run(id);
  }

  async list(): Promise<InstanceRecord[]> {
    return (this.#list.all() as { record: string }[]).map((row) => JSON.parse(row.record) as InstanceRecord);
  }
}
