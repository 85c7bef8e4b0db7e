// The embedded backend, the default: one SQLite database (libsql, WAL) for records and
// content-addressed files for code and checkpoints, all under the data dir. No service to run.
// Every acknowledged write is synced to disk: by SQLite's COMMIT (synchronous=FULL) for the
// occasional writes of functions, instances, groups and triggers; off the event loop for the
// queue's, which come in bursts (embedded-queue.ts).
import { join } from 'node:path';
import type { Stores } from './stores.js';
import { FileBlobStore } from './blob-store.js';
import { openDatabase } from './database.js';
import { openEmbeddedQueue } from './embedded-queue.js';
import { SqliteEnvStore } from './env-store.js';
import { SqliteGroupStore } from './group-store.js';
import { SqliteInstanceStore } from './instance-store.js';
import { SqliteFunctionStore } from './sqlite-function-store.js';
import { SqliteTriggerStore } from './trigger-store.js';

export function createEmbeddedStores(dataDir: string): Stores {
  const file = join(dataDir, 'wisp.db');
  const db = openDatabase(file);
  const queue = openEmbeddedQueue(file);
  return {
    functions: new SqliteFunctionStore(db),
    env: new SqliteEnvStore(db),
    instances: new SqliteInstanceStore(db),
    groups: new SqliteGroupStore(db),
    invocations: queue.invocations,
    batches: queue.batches,
    triggers: new SqliteTriggerStore(db),
    blobs: new FileBlobStore(join(dataDir, 'blobs')),
    // One node, one process: there is no one to share membership or messages with.
    cluster: null,
    close: async () => {
      await queue.close();
      if (db.open) db.close();
    },
  };
}
