import type { SqliteDatabase } from './database.js';
import type { FunctionStore, VersionDraft } from './function-store.js';
import type { FunctionRecord, VersionRecord } from './records.js';

interface FunctionRow {
  name: string;
  active_version: number;
  latest_version: number;
  created_at: string;
  updated_at: string;
}

interface VersionRow {
  name: string;
  version: number;
  digest: string;
  config: string;
  exports: string;
  created_at: string;
}

const toFunction = (row: FunctionRow): FunctionRecord => ({
  name: row.name,
  activeVersion: row.active_version,
  latestVersion: row.latest_version,
  // TEXT columns: SQLite keeps the numbers as text.
  createdAt: Number(row.created_at),
  updatedAt: Number(row.updated_at),
});

const toVersion = (row: VersionRow): VersionRecord => ({
  name: row.name,
  version: row.version,
  digest: row.digest,
  config: JSON.parse(row.config) as VersionRecord['config'],
  exports: JSON.parse(row.exports) as VersionRecord['exports'],
  createdAt: Number(row.created_at),
});

export class SqliteFunctionStore implements FunctionStore {
  readonly #statements;
  readonly #addVersion;
  readonly #setActive;

  constructor(db: SqliteDatabase) {
    this.#statements = {
      getFunction: db.prepare('SELECT * FROM functions WHERE name = ?'),
      listFunctions: db.prepare('SELECT * FROM functions ORDER BY name'),
      hasVersion: db.prepare('SELECT 1 FROM function_versions WHERE name = ? AND version = ?'),
      listAllVersions: db.prepare('SELECT * FROM function_versions ORDER BY name, version'),
      listVersions: db.prepare('SELECT * FROM function_versions WHERE name = ? ORDER BY version'),
      insertFunction: db.prepare(
        'INSERT INTO functions (name, active_version, latest_version, created_at, updated_at) VALUES (?, 1, 1, ?, ?)',
      ),
      bumpFunction: db.prepare(
        'UPDATE functions SET active_version = latest_version + 1, latest_version = latest_version + 1, updated_at = ? WHERE name = ?',
      ),
      insertVersion: db.prepare(
        'INSERT INTO function_versions (name, version, digest, config, exports, created_at) VALUES (?, ?, ?, ?, ?, ?)',
      ),
      setActive: db.prepare('UPDATE functions SET active_version = ?, updated_at = ? WHERE name = ?'),
      deleteFunction: db.prepare('DELETE FROM functions WHERE name = ?'),
    };
    // One transaction: the version number is taken and the version row written together.
    this.#addVersion = db.transaction((draft: VersionDraft) => {
      const s = this.#statements;
      const bumped = s.bumpFunction.run(draft.createdAt, draft.name);
      if (bumped.changes === 0) s.insertFunction.run(draft.name, draft.createdAt, draft.createdAt);
      const fn = this.#getFunction(draft.name)!;
      const version = fn.latestVersion;
      s.insertVersion.run(draft.name, version, draft.digest, JSON.stringify(draft.config), JSON.stringify(draft.exports), draft.createdAt);
      return { fn, version: { ...draft, version } };
    });
    this.#setActive = db.transaction((name: string, version: number, updatedAt: number) => {
      if (!this.#statements.hasVersion.get(name, version)) return undefined;
      this.#statements.setActive.run(version, updatedAt, name);
      return this.#getFunction(name);
    });
  }

  async load(): Promise<{ functions: FunctionRecord[]; versions: VersionRecord[] }> {
    return {
      functions: (this.#statements.listFunctions.all() as FunctionRow[]).map(toFunction),
      versions: (this.#statements.listAllVersions.all() as VersionRow[]).map(toVersion),
    };
  }

  async loadOne(name: string): Promise<{ fn: FunctionRecord; versions: VersionRecord[] } | null> {
    const fn = this.#getFunction(name);
    return fn ? { fn, versions: (this.#statements.listVersions.all(name) as VersionRow[]).map(toVersion) } : null;
  }

  async addVersion(draft: VersionDraft): Promise<{ fn: FunctionRecord; version: VersionRecord }> {
    return this.#addVersion.immediate(draft);
  }

  async setActiveVersion(name: string, version: number, updatedAt: number): Promise<FunctionRecord | undefined> {
    return this.#setActive(name, version, updatedAt);
  }

  async deleteFunction(name: string): Promise<boolean> {
    return this.#statements.deleteFunction.run(name).changes > 0;
  }

  #getFunction(name: string): FunctionRecord | undefined {
    const row = this.#statements.getFunction.get(name) as FunctionRow | undefined;
    return row && toFunction(row);
  }
}
