import type { SqliteDatabase } from './database.js';
import type { InstanceRecord } from './records.js';

/** Instance records. Implementations: embedded SQLite (below); Redis later. */
export interface InstanceStore {
  /** Inserts or replaces the record (one durable write). */
  save(record: InstanceRecord): void;
  delete(id: string): void;
  list(): InstanceRecord[];
}

/**
 * The statement that writes one instance record, as one JSON document with function and name as
 * columns for the unique index. The group store writes members inside its own transaction with it.
 */
export function prepareInstanceSave(db: SqliteDatabase): (record: InstanceRecord) => void {
  const save = db.prepare('INSERT OR REPLACE INTO instances (id, function, name, record) VALUES (?, ?, ?, ?)');
  return (record) => void save.run(record.id, record.function, record.name, JSON.stringify(record));
}

/** Instance records in the embedded store. */
export class SqliteInstanceStore implements InstanceStore {
  readonly #save;
  readonly #delete;
  readonly #list;

  constructor(db: SqliteDatabase) {
    this.#save = prepareInstanceSave(db);
    this.#delete = db.prepare('DELETE FROM instances WHERE id = ?');
    this.#list = db.prepare('SELECT record FROM instances ORDER BY rowid');
  }

  save(record: InstanceRecord): void {
    this.#save(record);
  }

  delete(id: string): void {
    this.#delete.run(id);
  }

  list(): InstanceRecord[] {
    return (this.#list.all() as { record: string }[]).map((row) => JSON.parse(row.record) as InstanceRecord);
  }
}
