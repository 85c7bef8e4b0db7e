// Runs a store's conformance suite on each backend: embedded SQLite (a fresh database per case)
// and Redis (one test server, a key prefix per case, as separate Wisps sharing a server would).
import type { Test } from 'tap';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { openDatabase, type SqliteDatabase } from '../../../dist/store/database.js';
import { startRedis } from '../../helpers/redis.js';
import { tempDir } from '../../helpers/temp-dir.js';

export interface Backends<S> {
  embedded: (db: SqliteDatabase) => S;
  redis: (redis: Redis, prefix: string) => S;
}

export function onEachBackend<S>(t: Test, make: Backends<S>, suite: (t: Test, make: () => Promise<S>) => void): void {
  t.test('embedded (SQLite)', async (t) => {
    suite(t, async () => {
      const db = openDatabase(join(tempDir(), 'wisp.db'));
      t.teardown(() => db.close());
      return make.embedded(db);
    });
  });
  t.test('Redis', async (t) => {
    const server = await startRedis(t);
    if (!server) return;
    const redis = new Redis(server.url, { maxRetriesPerRequest: 1 });
    t.teardown(() => redis.disconnect());
    let run = 0;
    suite(t, async () => make.redis(redis, `wisp-test:${process.pid}:${++run}:`));
  });
}
