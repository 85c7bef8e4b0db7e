// The cluster's work queue (BullMQ on a real redis-server): a job's id is its invocation's, so
// adding one twice makes one job; a handler's "look again later" brings the job back after that
// delay and "done" ends it; and a job held by a process that is SIGKILLed mid-job goes to
// another consumer once its lock runs out, without BullMQ giving it up.
import t from 'tap';
import type { Test } from 'tap';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createRedisStores } from '../../dist/store/redis-backend.js';
import type { WorkQueue } from '../../dist/store/work-queue.js';
import { until } from '../helpers/cluster.js';
import { startRedis } from '../helpers/redis.js';
import { tempDir } from '../helpers/temp-dir.js';

async function workQueue(t: Test, url: string, prefix: string): Promise<WorkQueue> {
  const stores = await createRedisStores(url, prefix, tempDir(), () => undefined);
  t.teardown(() => stores.close());
  return stores.cluster!.queue;
}

t.test('one job per id; a handler decides when it comes back, and when it is done', async (t) => {
  const redis = await startRedis(t);
  if (!redis) return;
  const queue = await workQueue(t, redis.url, `wq-${process.pid}-a:`);
  const seen: string[] = [];
  queue.consume('fn', { concurrency: 4, lockMs: 5000 }, async (id) => {
    seen.push(id);
    // "again" asks to be looked at once more after 50 ms, then is done.
    return id === 'again' && seen.filter((s) => s === id).length < 2 ? 50 : null;
  });
  await Promise.all([queue.add('fn', 'once', 0), queue.add('fn', 'once', 0), queue.add('fn', 'again', 0)]);
  await until(async () => seen.filter((id) => id === 'again').length === 2 && seen.includes('once'));
  await queue.add('fn', 'late', 300);
  await until(async () => seen.includes('late'));
  await queue.add('fn', 'once', 0);
  await until(async () => seen.filter((id) => id === 'once').length === 2);
  t.equal(seen.filter((id) => id === 'once').length, 2, 'a job added twice at once ran once; added again after it was done, it runs again');
  t.equal(seen.filter((id) => id === 'again').length, 2, 'a job asked back came back once, then was done');
});

t.test('a job held by a consumer that is SIGKILLed goes to another once its lock runs out', async (t) => {
  const redis = await startRedis(t);
  if (!redis) return;
  const prefix = `wq-${process.pid}-b:`;
  // The first consumer takes the job and never finishes it: it dies holding it.
  const child = spawn(
    process.execPath,
    [
      '--input-type=module',
      '-e',
      `import { createRedisStores } from ${JSON.stringify(new URL('../../dist/store/redis-backend.js', import.meta.url).href)};
       const stores = await createRedisStores(${JSON.stringify(redis.url)}, ${JSON.stringify(prefix)}, ${JSON.stringify(tempDir())}, () => undefined);
       stores.cluster.queue.consume('fn', { concurrency: 1, lockMs: 1000 }, (id) => { console.log('took ' + id); return new Promise(() => undefined); });
       await stores.cluster.queue.add('fn', 'held', 0);`,
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  t.teardown(() => child.kill('SIGKILL'));
  let out = '';
  child.stdout.on('data', (chunk) => (out += String(chunk)));
  await until(async () => out.includes('took held'));
  child.kill('SIGKILL');
  await once(child, 'exit');
  const queue = await workQueue(t, redis.url, prefix);
  const taken: string[] = [];
  queue.consume('fn', { concurrency: 1, lockMs: 1000 }, async (id) => {
    taken.push(id);
    return null;
  });
  await until(async () => taken.length > 0);
  t.same(taken, ['held'], 'the job the dead consumer held ran here');
});
