import type { SqliteDatabase } from './database.js';

/** One secret's name and when it was last set; the value is never part of a listing. */
export interface EnvEntry {
  name: string;
  updatedAt: string;
}

/** Functions' secrets. Implementations: SQLite (below); Redis later. */
export interface EnvStore {
  values(fn: string): Record<string, string>;
  entries(fn: string): EnvEntry[];
  /** Sets the non-null values and deletes the null ones, in one transaction. */
  apply(fn: string, changes: Readonly<Record<string, string | null>>, at: string): void;
}

export class SqliteEnvStore implements EnvStore {
  readonly #values;
  readonly #entries;
  readonly #set;
  readonly #delete;
  readonly #transaction;

  constructor(db: SqliteDatabase) {
    this.#values = db.prepare('SELECT name, value FROM function_env WHERE function = ?');
    this.#entries = db.prepare('SELECT name, updated_at AS updatedAt FROM function_env WHERE function = ? ORDER BY name');
    this.#set = db.prepare('INSERT OR REPLACE INTO function_env (function, name, value, updated_at) VALUES (?, ?, ?, ?)');
    this.#delete = db.prepare('DELETE FROM function_env WHERE function = ? AND name = ?');
    this.#transaction = db.transaction((fn: string, changes: Readonly<Record<string, string | null>>, at: string) => {
      for (const [name, value] of Object.entries(changes)) {
        if (value === null) this.#delete.run(fn, name);
        else this.#set.run(fn, name, value, at);
      }
    });
  }

  values(fn: string): Record<string, string> {
    const rows = this.#values.all(fn) as { name: string; value: string }[];
    return Object.fromEntries(rows.map((row) => [row.name, row.value]));
  }

  entries(fn: string): EnvEntry[] {
    return this.#entries.all(fn) as EnvEntry[];
  }

  apply(fn: string, changes: Readonly<Record<string, string | null>>, at: string): void {
    this.#transaction(fn, changes, at);
  }
}
