// The trigger store's conformance suite on each backend: embedded SQLite and Redis.
import t from 'tap';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { openDatabase } from '../../dist/store/database.js';
import { RedisTriggerStore } from '../../dist/store/redis-trigger-store.js';
import { SqliteTriggerStore } from '../../dist/store/trigger-store.js';
import { startRedis } from '../helpers/redis.js';
import { tempDir } from '../helpers/temp-dir.js';
import { triggerStoreConformance } from './conformance/trigger-store.js';

t.test('embedded (SQLite)', async (t) => {
  triggerStoreConformance(t, async () => {
    const db = openDatabase(join(tempDir(), 'wisp.db'));
    t.teardown(() => db.close());
    return new SqliteTriggerStore(db);
  });
});

t.test('Redis', async (t) => {
  const server = await startRedis(t);
  if (!server) return;
  const redis = new Redis(server.url, { maxRetriesPerRequest: 1 });
  t.teardown(() => redis.disconnect());
  let run = 0;
  // Each case in its own key prefix, as separate Wisps sharing one server would be.
  triggerStoreConformance(t, async () => new RedisTriggerStore(redis, `wisp-test:${process.pid}:${++run}:`));
});
