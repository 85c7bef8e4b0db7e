// The function store's conformance suite on each backend: embedded SQLite and Redis.
import t from 'tap';
import { RedisFunctionStore } from '../../dist/store/redis-function-store.js';
import { SqliteFunctionStore } from '../../dist/store/sqlite-function-store.js';
import { onEachBackend } from './conformance/backends.js';
import { functionStoreConformance } from './conformance/function-store.js';

onEachBackend(t, { embedded: (db) => new SqliteFunctionStore(db), redis: (redis, prefix) => new RedisFunctionStore(redis, prefix) }, functionStoreConformance);
