// The env store's conformance suite on each backend: embedded SQLite and Redis.
import t from 'tap';
import { SqliteEnvStore } from '../../dist/store/env-store.js';
import { RedisEnvStore } from '../../dist/store/redis-env-store.js';
import { onEachBackend } from './conformance/backends.js';
import { envStoreConformance } from './conformance/env-store.js';

onEachBackend(
  t,
  {
    embedded: (db) => {
      // function_env rows belong to a function: the store is used only for functions that exist.
      const insert = db.prepare("INSERT INTO functions (name, active_version, latest_version, created_at, updated_at) VALUES (?, 1, 1, 'at', 'at')");
      for (const fn of ['alpha', 'beta']) insert.run(fn);
      return new SqliteEnvStore(db);
    },
    redis: (redis, prefix) => new RedisEnvStore(redis, prefix),
  },
  envStoreConformance,
);
