// The invocation store's conformance suite on each backend: embedded SQLite and Redis.
import t from 'tap';
import { RedisInvocationStore } from '../../dist/store/redis-invocation-store.js';
import { openEmbeddedQueue } from '../../dist/store/embedded-queue.js';
import { onEachBackend } from './conformance/backends.js';
import { invocationStoreConformance } from './conformance/invocation-store.js';

onEachBackend(
  t,
  {
    // As the embedded backend has it: a connection of its own, the WAL synced off the event loop.
    embedded: (_db, file, teardown) => {
      const queue = openEmbeddedQueue(file);
      teardown(() => queue.close());
      return queue.invocations;
    },
    redis: (redis, prefix) => new RedisInvocationStore(redis, prefix),
  },
  invocationStoreConformance,
);
