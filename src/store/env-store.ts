// Functions' secrets, as the operations FunctionEnv needs. A change is applied whole and only if
// the function's values stay within their limits, checked inside the same atomic step: two
// writers at once cannot together pass a limit that each alone keeps.
import type { SqliteDatabase } from './database.js';

/** One secret's name and when it was last set; the value is never part of a listing. */
export interface EnvEntry {
  name: string;
  /** Epoch ms. */
  updatedAt: number;
}

export type EnvChangeSet = Readonly<Record<string, string | null>>;

export interface EnvLimits {
  maxEntries: number;
  /** Names and values together, in UTF-8 bytes. */
  maxBytes: number;
}

/** What an apply did: the function's values after it, or what it would have made instead. */
export type EnvApplied = { ok: true; values: Record<string, string> } | { ok: false; entries: number; bytes: number };

/** Implementations: SQLite (below) and Redis (redis-env-store.ts), held to test/store/conformance. */
export interface EnvStore {
  /** Every function's values, for the cache calls read from. */
  all(): Promise<Map<string, Record<string, string>>>;
  entries(fn: string): Promise<EnvEntry[]>;
  /** Sets the non-null values and deletes the null ones, all or none, within `limits`. */
  apply(fn: string, changes: EnvChangeSet, at: number, limits: EnvLimits): Promise<EnvApplied>;
  /** The function is gone: its values go too. */
  deleteAll(fn: string): Promise<void>;
}

/** The values after `changes`, and whether they are within `limits`: the one rule both stores apply. */
export function applied(values: Readonly<Record<string, string>>, changes: EnvChangeSet, limits: EnvLimits): EnvApplied {
  const next: Record<string, string> = { ...values };
  for (const [name, value] of Object.entries(changes)) {
    if (value === null) delete next[name];
    else next[name] = value;
  }
  const names = Object.keys(next);
  const bytes = names.reduce((sum, name) => sum + Buffer.byteLength(name) + Buffer.byteLength(next[name]!), 0);
  if (names.length > limits.maxEntries || bytes > limits.maxBytes) return { ok: false, entries: names.length, bytes };
  return { ok: true, values: next };
}

export class SqliteEnvStore implements EnvStore {
  readonly #sql;
  readonly #apply;

  constructor(db: SqliteDatabase) {
    this.#sql = {
      all: db.prepare('SELECT function, name, value FROM function_env'),
      values: db.prepare('SELECT name, value FROM function_env WHERE function = ?'),
      entries: db.prepare('SELECT name, updated_at AS updatedAt FROM function_env WHERE function = ? ORDER BY name'),
      set: db.prepare('INSERT OR REPLACE INTO function_env (function, name, value, updated_at) VALUES (?, ?, ?, ?)'),
      delete: db.prepare('DELETE FROM function_env WHERE function = ? AND name = ?'),
      deleteAll: db.prepare('DELETE FROM function_env WHERE function = ?'),
    };
    this.#apply = db.transaction((fn: string, changes: EnvChangeSet, at: number, limits: EnvLimits): EnvApplied => {
      const rows = this.#sql.values.all(fn) as { name: string; value: string }[];
      const result = applied(Object.fromEntries(rows.map((row) => [row.name, row.value])), changes, limits);
      if (!result.ok) return result;
      for (const [name, value] of Object.entries(changes)) {
        if (value === null) this.#sql.delete.run(fn, name);
        else this.#sql.set.run(fn, name, value, at);
      }
      return result;
    });
  }

  async all(): Promise<Map<string, Record<string, string>>> {
    const all = new Map<string, Record<string, string>>();
    for (const row of this.#sql.all.all() as { function: string; name: string; value: string }[]) {
      const values = all.get(row.function) ?? {};
      values[row.name] = row.value;
      all.set(row.function, values);
    }
    return all;
  }

  async entries(fn: string): Promise<EnvEntry[]> {
    // A TEXT column: SQLite keeps the number as text.
    return (this.#sql.entries.all(fn) as { name: string; updatedAt: string | number }[]).map((row) => ({ name: row.name, updatedAt: Number(row.updatedAt) }));
  }

  async apply(fn: string, changes: EnvChangeSet, at: number, limits: EnvLimits): Promise<EnvApplied> {
    return this.#apply(fn, changes, at, limits);
  }

  async deleteAll(fn: string): Promise<void> {
    this.#sql.deleteAll.run(fn);
  }
}
