import type { SqliteDatabase } from './database.js';
import type { TriggerRecord } from './records.js';

/** Trigger records, secrets included. Implementations: SQLite (below); Redis later. */
export interface TriggerStore {
  save(record: TriggerRecord): void;
  get(id: string): TriggerRecord | undefined;
  list(fn: string): TriggerRecord[];
  all(): TriggerRecord[];
  delete(id: string): void;
}

export class SqliteTriggerStore implements TriggerStore {
  readonly #save;
  readonly #get;
  readonly #list;
  readonly #delete;
  readonly #all;

  constructor(db: SqliteDatabase) {
    this.#save = db.prepare('INSERT OR REPLACE INTO triggers (id, function, record) VALUES (?, ?, ?)');
    this.#get = db.prepare('SELECT record FROM triggers WHERE id = ?');
    this.#list = db.prepare('SELECT record FROM triggers WHERE function = ? ORDER BY rowid');
    this.#delete = db.prepare('DELETE FROM triggers WHERE id = ?');
    this.#all = db.prepare('SELECT record FROM triggers ORDER BY rowid');
  }

  save(record: TriggerRecord): void {
    this.#save.run(record.id, record.function, JSON.stringify(record));
  }

  get(id: string): TriggerRecord | undefined {
    const row = this.#get.get(id) as { record: string } | undefined;
    return row ? (JSON.parse(row.record) as TriggerRecord) : undefined;
  }

  list(fn: string): TriggerRecord[] {
    return (this.#list.all(fn) as { record: string }[]).map((row) => JSON.parse(row.record) as TriggerRecord);
  }

  delete(id: string): void {
    this.#delete.run(id);
  }

  all(): TriggerRecord[] {
    return (this.#all.all() as { record: string }[]).map((row) => JSON.parse(row.record) as TriggerRecord);
  }
}
