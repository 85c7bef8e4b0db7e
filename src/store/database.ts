import Database from 'libsql';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';

export type SqliteDatabase = InstanceType<typeof Database>;

// Each entry runs once, in order; the index + 1 is the schema version kept in user_version.
const MIGRATIONS: readonly string[] = [
  `CREATE TABLE functions (
     name TEXT PRIMARY KEY,
     active_version INTEGER NOT NULL,
     latest_version INTEGER NOT NULL,
     created_at TEXT NOT NULL,
     updated_at TEXT NOT NULL
   );
   CREATE TABLE function_versions (
     name TEXT NOT NULL REFERENCES functions(name) ON DELETE CASCADE,
     version INTEGER NOT NULL,
     digest TEXT NOT NULL,
     config TEXT NOT NULL,
     exports TEXT NOT NULL,
     created_at TEXT NOT NULL,
     PRIMARY KEY (name, version)
   );`,
  `CREATE TABLE instances (
     id TEXT PRIMARY KEY,
     function TEXT NOT NULL,
     name TEXT,
     record TEXT NOT NULL
   );
   CREATE UNIQUE INDEX instances_by_name ON instances (function, name) WHERE name IS NOT NULL;`,
  `CREATE TABLE groups (
     name TEXT PRIMARY KEY,
     record TEXT NOT NULL
   );`,
];

/**
 * Opens (creating if needed) the embedded SQLite database in WAL mode. synchronous=FULL makes
 * every acknowledged commit durable even across power loss, not only across a SIGKILL.
 */
export function openDatabase(file: string): SqliteDatabase {
  mkdirSync(dirname(file), { recursive: true });
  const db = new Database(file);
  db.exec('PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 5000;');
  migrate(db);
  return db;
}

function migrate(db: SqliteDatabase): void {
  const row = db.prepare('PRAGMA user_version').get() as { user_version: number };
  for (let index = row.user_version; index < MIGRATIONS.length; index++) {
    db.transaction(() => {
      db.exec(MIGRATIONS[index]!);
      db.exec(`PRAGMA user_version = ${index + 1}`);
    })();
  }
}
