// The Redis the storage tests run against keeps what it acknowledged: a write answered OK is
// still there after the server is killed with SIGKILL and started again (appendfsync always).
import t from 'tap';
import { Redis } from 'ioredis';
import { startRedis } from '../helpers/redis.js';

t.test('an acknowledged write survives SIGKILL of the test redis-server', async (t) => {
  const redis = await startRedis(t);
  if (!redis) return;
  const before = new Redis(redis.url, { lazyConnect: true, maxRetriesPerRequest: 1 });
  await before.connect();
  t.equal(await before.set('wisp:test:key', 'kept'), 'OK');
  before.disconnect();
  await redis.restart();
  const after = new Redis(redis.url, { lazyConnect: true, maxRetriesPerRequest: 1 });
  t.teardown(() => after.disconnect());
  await after.connect();
  t.equal(await after.get('wisp:test:key'), 'kept');
  t.equal(await after.config('GET', 'appendfsync').then((pair) => (pair as string[])[1]), 'always');
});
