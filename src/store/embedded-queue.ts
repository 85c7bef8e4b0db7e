// The embedded backend's queue: the invocation and batch stores on a connection of their own
// (synchronous=NORMAL), written through group commit with the WAL synced off the event loop
// (wal-sync.ts). The rest of the embedded stores keep the synchronous=FULL connection: their
// writes are few, and each is durable when its statement returns.
import { openGroupCommitConnection } from './database.js';
import { SqliteBatchStore } from './sqlite-batch-store.js';
import { SqliteInvocationStore } from './sqlite-invocation-store.js';
import { WalSync } from './wal-sync.js';
import { WriteBatcher } from './write-batcher.js';

export interface EmbeddedQueue {
  invocations: SqliteInvocationStore;
  batches: SqliteBatchStore;
  /** Waits for the writes asked for so far, then closes the connection. */
  close(): Promise<void>;
}

/** `file`: a database openDatabase has opened (and migrated) already. */
export function openEmbeddedQueue(file: string): EmbeddedQueue {
  const db = openGroupCommitConnection(file);
  const wal = new WalSync(file);
  // One transaction per event-loop turn, and one WAL sync for the transactions committed while the last sync ran.
  const writes = new WriteBatcher(db, wal);
  const invocations = new SqliteInvocationStore(db, writes);
  return {
    invocations,
    batches: new SqliteBatchStore(db, writes, invocations),
    close: async () => {
      await writes.flushed();
      if (db.open) db.close();
      wal.close();
    },
  };
}
