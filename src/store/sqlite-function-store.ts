import type { SqliteDatabase } from './database.js';
import type { FunctionStore } from './function-store.js';
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
  createdAt: row.created_at,
  updatedAt: row.updated_at,
});

const toVersion = (row: VersionRow): VersionRecord => ({
  name: row.name,
  version: row.version,
  digest: row.digest,
  config: JSON.parse(row.config) as VersionRecord['config'],
  exports: JSON.parse(row.exports) as VersionRecord['exports'],
  createdAt: row.created_at,
});

export class SqliteFunctionStore implements FunctionStore {
  readonly #db: SqliteDatabase;
  readonly #statements;
  readonly #addVersion;

  constructor(db: SqliteDatabase) {
    this.#db = db;
    this.#statements = {
      getFunction: db.prepare('SELECT * FROM functions WHERE name = ?'),
      listFunctions: db.prepare('SELECT * FROM functions ORDER BY name'),
      getVersion: db.prepare('SELECT * FROM function_versions WHERE name = ? AND version = ?'),
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
    this.#addVersion = db.transaction((draft: Omit<VersionRecord, 'version'>) => {
      const s = this.#statements;
      const bumped = s.bumpFunction.run(draft.createdAt, draft.name);
      if (bumped.changes === 0) s.insertFunction.run(draft.name, draft.createdAt, draft.createdAt);
      const fn = this.getFunction(draft.name)!;
      const version = fn.latestVersion;
      s.insertVersion.run(draft.name, version, draft.digest, JSON.stringify(draft.config), JSON.stringify(draft.exports), draft.createdAt);
      return { fn, version: { ...draft, version } };
    });
  }

  addVersion(draft: Omit<VersionRecord, 'version'>): { fn: FunctionRecord; version: VersionRecord } {
    return this.#addVersion.immediate(draft);
  }

  getFunction(name: string): FunctionRecord | undefined {
    const row = this.#statements.getFunction.get(name) as FunctionRow | undefined;
    return row && toFunction(row);
  }

  listFunctions(): FunctionRecord[] {
    return (this.#statements.listFunctions.all() as FunctionRow[]).map(toFunction);
  }

  getVersion(name: string, version: number): VersionRecord | undefined {
    const row = this.#statements.getVersion.get(name, version) as VersionRow | undefined;
    return row && toVersion(row);
  }

  listVersions(name: string): VersionRecord[] {
    return (this.#statements.listVersions.all(name) as VersionRow[]).map(toVersion);
  }

  setActiveVersion(name: string, version: number, updatedAt: string): FunctionRecord | undefined {
    if (!this.getVersion(name, version)) return undefined;
    this.#statements.setActive.run(version, updatedAt, name);
    return this.getFunction(name);
  }

  deleteFunction(name: string): boolean {
    return this.#statements.deleteFunction.run(name).changes > 0;
  }
}
