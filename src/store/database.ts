import Database from 'libsql';
import { chmodSync, closeSync, mkdirSync, openSync } from 'node:fs';
import { dirname } from 'node:path';

export type SqliteDatabase = InstanceType<typeof Database>;

// Each entry runs once, in order; the index + 1 is the schema version kept in user_version.
const MIGRATIONS: readonly (string | ((db: SqliteDatabase) => void))[] = [
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
  // An invocation is one JSON document; the columns beside it are what queries select on.
  // Results live in the document; logs have their own column so listing never reads them.
  `CREATE TABLE invocations (
     id TEXT PRIMARY KEY,
     function TEXT NOT NULL,
     status TEXT NOT NULL,
     run_at INTEGER NOT NULL,
     created_at INTEGER NOT NULL,
     finished_at INTEGER,
     parent_id TEXT,
     idempotency_scope TEXT,
     idempotency_key TEXT,
     callback_at INTEGER,
     record TEXT NOT NULL,
     logs TEXT
   );
   CREATE INDEX invocations_due ON invocations (run_at) WHERE status IN ('queued', 'retrying');
   CREATE INDEX invocations_by_status ON invocations (status, created_at);
   CREATE INDEX invocations_by_function ON invocations (function, created_at);
   CREATE INDEX invocations_by_parent ON invocations (parent_id) WHERE parent_id IS NOT NULL;
   CREATE INDEX invocations_finished ON invocations (finished_at) WHERE finished_at IS NOT NULL;
   CREATE INDEX invocations_callbacks ON invocations (callback_at) WHERE callback_at IS NOT NULL;
   CREATE UNIQUE INDEX invocations_idempotency ON invocations (idempotency_scope, idempotency_key)
     WHERE idempotency_key IS NOT NULL;`,
  `CREATE TABLE triggers (
     id TEXT PRIMARY KEY,
     function TEXT NOT NULL,
     record TEXT NOT NULL
   );
   CREATE INDEX triggers_by_function ON triggers (function);`,
  // A function's secrets. Kept apart from function_versions so that no version record, and so no
  // API answer built from one, ever carries a value.
  `CREATE TABLE function_env (
     function TEXT NOT NULL REFERENCES functions(name) ON DELETE CASCADE,
     name TEXT NOT NULL,
     value TEXT NOT NULL,
     updated_at TEXT NOT NULL,
     PRIMARY KEY (function, name)
   );`,
  // The queue's index, in the order due work is taken: oldest first by (run_at, created_at).
  `CREATE INDEX invocations_due_in_order ON invocations (run_at, created_at) WHERE status IN ('queued', 'retrying');
   DROP INDEX invocations_due;`,
  // Claims: who runs an attempt (owner and token) and until when, unless it renews. A running
  // invocation whose lease ran out was cut off with its node and is taken back.
  `ALTER TABLE invocations ADD COLUMN lease_owner TEXT;
   ALTER TABLE invocations ADD COLUMN lease_token TEXT;
   ALTER TABLE invocations ADD COLUMN lease_until INTEGER;
   CREATE INDEX invocations_leased ON invocations (lease_until) WHERE lease_until IS NOT NULL;`,
  // One timestamp format in records, epoch ms (invocations always had it): the ISO strings of
  // functions, versions, env, instances, groups and triggers become milliseconds. In JS for the
  // JSON documents: SQLite's json_set would rewrite every number in them, and may shorten a float.
  (db: SqliteDatabase) => {
    for (const [table, column] of [['functions', 'created_at'], ['functions', 'updated_at'], ['function_versions', 'created_at'], ['function_env', 'updated_at']]) {
      db.exec(`UPDATE ${table} SET ${column} = CAST(ROUND((julianday(${column}) - 2440587.5) * 86400000) AS INTEGER) WHERE ${column} LIKE '%T%'`);
    }
    for (const [table, key] of [['instances', 'id'], ['groups', 'name'], ['triggers', 'id']] as const) {
      const update = db.prepare(`UPDATE ${table} SET record = ? WHERE ${key} = ?`);
      for (const row of db.prepare(`SELECT ${key} AS key, record FROM ${table}`).all() as { key: string; record: string }[]) {
        const record = JSON.parse(row.record) as Record<string, unknown>;
        for (const field of ['createdAt', 'updatedAt', 'checkpointedAt']) {
          if (typeof record[field] === 'string') record[field] = Date.parse(record[field] as string);
        }
        update.run(JSON.stringify(record), row.key);
      }
    }
  },
  // Batches (invocation batches): a batch's members are invocations with its id and their index.
  `ALTER TABLE invocations ADD COLUMN batch_id TEXT;
   ALTER TABLE invocations ADD COLUMN batch_index INTEGER;
   -- With status in it, a batch's counts read the index alone.
   CREATE INDEX invocations_by_batch ON invocations (batch_id, batch_index, status) WHERE batch_id IS NOT NULL;
   CREATE TABLE batches (
     id TEXT PRIMARY KEY,
     function TEXT NOT NULL,
     idempotency_scope TEXT,
     idempotency_key TEXT,
     created_at INTEGER NOT NULL,
     finished_at INTEGER,
     callback_pending INTEGER NOT NULL,
     record TEXT NOT NULL
   );
   CREATE UNIQUE INDEX batches_idempotency ON batches (idempotency_scope, idempotency_key) WHERE idempotency_key IS NOT NULL;
   CREATE INDEX batches_open ON batches (created_at) WHERE finished_at IS NULL OR callback_pending = 1;`,
  // Concurrency control: an invocation holds its concurrency key (unique) until it is final, so
  // of equal submissions at once exactly one is stored; the trigger lets the key go.
  `ALTER TABLE invocations ADD COLUMN pending_key TEXT;
   CREATE UNIQUE INDEX invocations_by_pending_key ON invocations (pending_key) WHERE pending_key IS NOT NULL;
   CREATE TRIGGER invocations_pending_key_ends AFTER UPDATE OF status ON invocations
     WHEN NEW.pending_key IS NOT NULL AND NEW.status IN ('succeeded', 'failed', 'cancelled')
     BEGIN UPDATE invocations SET pending_key = NULL WHERE id = NEW.id; END;`,
];

/**
 * Opens (creating if needed) the embedded SQLite database in WAL mode. synchronous=FULL makes
 * every acknowledged commit durable even across power loss, not only across a SIGKILL.
 */
export function openDatabase(file: string): SqliteDatabase {
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  // It holds secrets (function env, webhook secrets): owner-only before SQLite writes a byte.
  // SQLite gives the -wal and -shm files the main file's mode.
  closeSync(openSync(file, 'a', 0o600));
  chmodSync(file, 0o600);
  const db = new Database(file);
  db.exec('PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 5000;');
  migrate(db);
  return db;
}

function migrate(db: SqliteDatabase): void {
  const row = db.prepare('PRAGMA user_version').get() as { user_version: number };
  for (let index = row.user_version; index < MIGRATIONS.length; index++) {
    db.transaction(() => {
      const migration = MIGRATIONS[index]!;
      if (typeof migration === 'string') db.exec(migration);
      else migration(db);
      db.exec(`PRAGMA user_version = ${index + 1}`);
    })();
  }
}
