// The embedded backend, the default: one SQLite database (libsql, WAL, synchronous=FULL) for
// records and content-addressed files for code and checkpoints, all under the data dir. No
// service to run.
import { join } from 'node:path';
import type { Stores } from './stores.js';
import { FileBlobStore } from './blob-store.js';
import { openDatabase } from './database.js';
import { SqliteEnvStore } from './env-store.js';
import { SqliteGroupStore } from './group-store.js';
import { SqliteInstanceStore } from './instance-store.js';
import { SqliteBatchStore } from './sqlite-batch-store.js';
import { SqliteInvocationStore } from './sqlite-invocation-store.js';
import { SqliteFunctionStore } from './sqlite-function-store.js';
import { SqliteTriggerStore } from './trigger-store.js';
import { WriteBatcher } from './write-batcher.js';

export function createEmbeddedStores(dataDir: string): Stores {
  const db = openDatabase(join(dataDir, 'wisp.db'));
  // Group commit for the queue's writes, which come in bursts: one fsync per event-loop turn.
  const writes = new WriteBatcher(db);
  const invocations = new SqliteInvocationStore(db, writes);
  return {
    functions: new SqliteFunctionStore(db),
    env: new SqliteEnvStore(db),
    instances: new SqliteInstanceStore(db),
    groups: new SqliteGroupStore(db),
    invocations,
    batches: new SqliteBatchStore(db, writes, invocations),
    triggers: new SqliteTriggerStore(db),
    blobs: new FileBlobStore(join(dataDir, 'blobs')),
    // One node, one process: there is no one to share membership or messages with.
    cluster: null,
    close: async () => {
      await writes.flushed();
      if (db.open) db.close();
    },
  };
}
