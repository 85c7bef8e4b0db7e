// A data dir from before records kept one timestamp format: the ISO strings of functions,
// versions, env, instances, groups and triggers are epoch milliseconds after the upgrade, and
// nothing else in the records changes.
import t from 'tap';
import { join } from 'node:path';
import { openDatabase } from '../../dist/store/database.js';
import { SqliteEnvStore } from '../../dist/store/env-store.js';
import { SqliteGroupStore } from '../../dist/store/group-store.js';
import { SqliteInstanceStore } from '../../dist/store/instance-store.js';
import { SqliteFunctionStore } from '../../dist/store/sqlite-function-store.js';
import { SqliteTriggerStore } from '../../dist/store/trigger-store.js';
import { tempDir } from '../helpers/temp-dir.js';

const ISO = '2030-01-01T00:00:00.123Z';
const MS = Date.parse(ISO);

t.test('ISO times written by the version before are epoch ms after the upgrade', async (t) => {
  const file = join(tempDir(), 'wisp.db');
  const db = openDatabase(file);
  const version = (db.prepare('PRAGMA user_version').get() as { user_version: number }).user_version;
  // The rows as the version before this migration wrote them.
  db.exec(`INSERT INTO functions (name, active_version, latest_version, created_at, updated_at) VALUES ('alpha', 1, 1, '${ISO}', '${ISO}')`);
  db.exec(`INSERT INTO function_versions (name, version, digest, config, exports, created_at) VALUES ('alpha', 1, '${'a'.repeat(64)}', '{}', '{"handler":true,"fetch":false,"classes":[]}', '${ISO}')`);
  db.exec(`INSERT INTO function_env (function, name, value, updated_at) VALUES ('alpha', 'KEY', 'v', '${ISO}')`);
  const args = [0.30000000000000004, 9007199254740991, [], {}];
  const instance = { id: 'ins_1', function: 'alpha', name: null, args, createdAt: ISO, updatedAt: ISO, checkpointedAt: ISO };
  db.prepare('INSERT INTO instances (id, function, name, record) VALUES (?, ?, ?, ?)').run('ins_1', 'alpha', null, JSON.stringify(instance));
  db.prepare('INSERT INTO groups (name, record) VALUES (?, ?)').run('g', JSON.stringify({ name: 'g', createdAt: ISO, updatedAt: ISO }));
  db.prepare('INSERT INTO triggers (id, function, record) VALUES (?, ?, ?)').run('trg_1', 'alpha', JSON.stringify({ id: 'trg_1', function: 'alpha', createdAt: ISO, lastScheduledAt: 5 }));
  // Back to the schema before the timestamp migration: the ones after it (concurrency keys, batches) undone first.
  db.exec('DROP TRIGGER invocations_pending_key_ends; DROP INDEX invocations_by_pending_key; ALTER TABLE invocations DROP COLUMN pending_key;');
  db.exec('DROP TABLE batches; DROP INDEX invocations_by_batch; ALTER TABLE invocations DROP COLUMN batch_index; ALTER TABLE invocations DROP COLUMN batch_id;');
  db.exec(`PRAGMA user_version = ${version - 3}`);
  db.close();

  const upgraded = openDatabase(file);
  t.teardown(() => upgraded.close());
  const { functions, versions } = await new SqliteFunctionStore(upgraded).load();
  t.match(functions[0], { createdAt: MS, updatedAt: MS });
  t.equal(versions[0]!.createdAt, MS);
  t.same(await new SqliteEnvStore(upgraded).entries('alpha'), [{ name: 'KEY', updatedAt: MS }]);
  const [ins] = await new SqliteInstanceStore(upgraded).list();
  t.same(ins, { ...instance, createdAt: MS, updatedAt: MS, checkpointedAt: MS }, 'the times, and nothing else (a float keeps every digit)');
  t.match((await new SqliteGroupStore(upgraded).list())[0], { createdAt: MS, updatedAt: MS });
  t.match(await new SqliteTriggerStore(upgraded).get('trg_1'), { createdAt: MS, lastScheduledAt: 5 });
});
