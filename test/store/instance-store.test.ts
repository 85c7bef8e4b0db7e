// The instance and group stores' conformance suite on each backend: embedded SQLite and Redis.
import t from 'tap';
import { SqliteGroupStore } from '../../dist/store/group-store.js';
import { SqliteInstanceStore } from '../../dist/store/instance-store.js';
import { RedisGroupStore } from '../../dist/store/redis-group-store.js';
import { RedisInstanceStore } from '../../dist/store/redis-instance-store.js';
import { onEachBackend } from './conformance/backends.js';
import { instanceStoreConformance } from './conformance/instance-store.js';

onEachBackend(
  t,
  {
    embedded: (db) => ({ instances: new SqliteInstanceStore(db), groups: new SqliteGroupStore(db) }),
    redis: (redis, prefix) => ({ instances: new RedisInstanceStore(redis, prefix), groups: new RedisGroupStore(redis, prefix) }),
  },
  instanceStoreConformance,
);
