// The trigger store's conformance suite on each backend: embedded SQLite and Redis.
import t from 'tap';
import { RedisTriggerStore } from '../../dist/store/redis-trigger-store.js';
import { SqliteTriggerStore } from '../../dist/store/trigger-store.js';
import { onEachBackend } from './conformance/backends.js';
import { triggerStoreConformance } from './conformance/trigger-store.js';

onEachBackend(t, { embedded: (db) => new SqliteTriggerStore(db), redis: (redis, prefix) => new RedisTriggerStore(redis, prefix) }, triggerStoreConformance);
