// The invocation store's conformance suite on each backend: embedded SQLite and Redis.
import t from 'tap';
import { RedisInvocationStore } from '../../dist/store/redis-invocation-store.js';
import { SqliteInvocationStore } from '../../dist/store/sqlite-invocation-store.js';
import { WriteBatcher } from '../../dist/store/write-batcher.js';
import { onEachBackend } from './conformance/backends.js';
import { invocationStoreConformance } from './conformance/invocation-store.js';

onEachBackend(
  t,
  { embedded: (db) => new SqliteInvocationStore(db, new WriteBatcher(db)), redis: (redis, prefix) => new RedisInvocationStore(redis, prefix) },
  invocationStoreConformance,
);
