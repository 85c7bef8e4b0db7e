// The batch store's conformance suite on each backend: embedded SQLite and Redis.
import t from 'tap';
import { RedisBatchStore } from '../../dist/store/redis-batch-store.js';
import { RedisInvocationStore } from '../../dist/store/redis-invocation-store.js';
import { SqliteBatchStore } from '../../dist/store/sqlite-batch-store.js';
import { SqliteInvocationStore } from '../../dist/store/sqlite-invocation-store.js';
import { WriteBatcher } from '../../dist/store/write-batcher.js';
import { onEachBackend } from './conformance/backends.js';
import { batchStoreConformance } from './conformance/batch-store.js';

onEachBackend(
  t,
  {
    embedded: (db) => {
      const writes = new WriteBatcher(db);
      const invocations = new SqliteInvocationStore(db, writes);
      return { invocations, batches: new SqliteBatchStore(db, writes, invocations) };
    },
    redis: (redis, prefix) => ({ invocations: new RedisInvocationStore(redis, prefix), batches: new RedisBatchStore(redis, prefix) }),
  },
  batchStoreConformance,
);
