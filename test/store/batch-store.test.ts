// The batch store's conformance suite on each backend: embedded SQLite and Redis.
import t from 'tap';
import { RedisBatchStore } from '../../dist/store/redis-batch-store.js';
import { RedisInvocationStore } from '../../dist/store/redis-invocation-store.js';
import { openEmbeddedQueue } from '../../dist/store/embedded-queue.js';
import { onEachBackend } from './conformance/backends.js';
import { batchStoreConformance } from './conformance/batch-store.js';

onEachBackend(
  t,
  {
    embedded: (_db, file, teardown) => {
      const queue = openEmbeddedQueue(file);
      teardown(() => queue.close());
      return { invocations: queue.invocations, batches: queue.batches };
    },
    redis: (redis, prefix) => ({ invocations: new RedisInvocationStore(redis, prefix), batches: new RedisBatchStore(redis, prefix) }),
  },
  batchStoreConformance,
);
