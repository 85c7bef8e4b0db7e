// What every TriggerStore must do, whichever backend: run by test/store/trigger-store.test.ts
// against each one. Round trips, and the rules that matter with several writers: a rotation
// is never lost to a concurrent one, and a cron schedule only moves forward.
import type { Test } from 'tap';
import type { CronTriggerRecord, WebhookTriggerRecord } from '../../../dist/store/records.js';
import type { TriggerStore } from '../../../dist/store/trigger-store.js';

let n = 0;
const id = () => `trg_${(++n).toString(16).padStart(20, '0')}`;

export const webhook = (fn: string): WebhookTriggerRecord => ({
  id: id(),
  function: fn,
  type: 'webhook',
  scheme: 'github',
  secrets: [{ secret: 'first-secret', expiresAt: null }],
  hmac: null,
  createdAt: 1893456000000,
});

export const cron = (fn: string): CronTriggerRecord => ({
  id: id(),
  function: fn,
  type: 'cron',
  schedule: '*/5 * * * *',
  timezone: null,
  // Shapes a careless store would change on the way through: an empty array, a big number, nulls.
  input: { list: [], empty: {}, big: 9_007_199_254_740_991, none: null },
  overlap: 'skip',
  missed: 'once',
  lastScheduledAt: null,
  lastInvocationId: null,
  createdAt: 1893456000000,
});

export function triggerStoreConformance(t: Test, make: () => Promise<TriggerStore>): void {
  t.test('create, get, list in creation order, crons, delete', async (t) => {
    const store = await make();
    const a = webhook('alpha');
    const b = cron('alpha');
    const c = cron('beta');
    for (const record of [a, b, c]) await store.create(record);
    t.same(await store.get(a.id), a);
    t.same(await store.get(b.id), b, 'the cron input comes back exactly');
    t.equal(await store.get('trg_ffffffffffffffffffff'), undefined);
    t.same((await store.list('alpha')).map((r) => r.id), [a.id, b.id]);
    t.same((await store.list('nobody')), []);
    t.same((await store.crons()).map((r) => r.id), [b.id, c.id]);
    t.equal(await store.delete(b.id), true);
    t.equal(await store.delete(b.id), false, 'a second delete finds nothing');
    t.equal(await store.get(b.id), undefined);
    t.same((await store.list('alpha')).map((r) => r.id), [a.id]);
    t.same((await store.crons()).map((r) => r.id), [c.id]);
  });

  t.test('creating an id twice is refused and keeps the first', async (t) => {
    const store = await make();
    const a = webhook('alpha');
    await store.create(a);
    await t.rejects(store.create({ ...a, function: 'other' }));
    t.same(await store.get(a.id), a);
    t.same(await store.list('other'), []);
  });

  t.test('rotateSecret: the new one first, old ones capped at the overlap, expired ones gone', async (t) => {
    const store = await make();
    const a = webhook('alpha');
    a.secrets = [
      { secret: 'current', expiresAt: null },
      { secret: 'fading', expiresAt: 5_000 },
      { secret: 'expired', expiresAt: 1_000 },
    ];
    await store.create(a);
    const rotated = await store.rotateSecret(a.id, 'newest', 2_000, 4_000);
    t.same(rotated?.secrets, [
      { secret: 'newest', expiresAt: null },
      { secret: 'current', expiresAt: 4_000 },
      { secret: 'fading', expiresAt: 4_000 },
    ]);
    t.same(await store.get(a.id), rotated, 'stored as answered');
    t.equal(await store.rotateSecret('trg_ffffffffffffffffffff', 'x', 0, 1), undefined);
    const c = cron('alpha');
    await store.create(c);
    t.equal(await store.rotateSecret(c.id, 'x', 0, 1), undefined, 'a cron trigger has no secret');
  });

  t.test('concurrent rotations all land: none is lost to another', async (t) => {
    const store = await make();
    const a = webhook('alpha');
    await store.create(a);
    const secrets = Array.from({ length: 20 }, (_, i) => `secret-${i}`);
    await Promise.all(secrets.map((secret, i) => store.rotateSecret(a.id, secret, i, 1_000_000)));
    const kept = ((await store.get(a.id)) as WebhookTriggerRecord).secrets.map((s) => s.secret);
    t.equal(kept.length, 21, 'every rotation added its secret');
    t.same([...kept].sort(), [...secrets, 'first-secret'].sort());
    t.equal(((await store.get(a.id)) as WebhookTriggerRecord).secrets.filter((s) => s.expiresAt === null).length, 1, 'exactly one is current');
  });

  t.test('recordScheduled only moves a schedule forward', async (t) => {
    const store = await make();
    const c = cron('alpha');
    await store.create(c);
    t.equal(await store.recordScheduled(c.id, 2_000, 'inv-2'), true);
    t.equal(await store.recordScheduled(c.id, 1_000, 'inv-1'), true);
    t.match(await store.get(c.id), { lastScheduledAt: 2_000, lastInvocationId: 'inv-2' }, 'an earlier time changes nothing');
    await store.recordScheduled(c.id, 2_000, 'inv-2b');
    t.match(await store.get(c.id), { lastScheduledAt: 2_000, lastInvocationId: 'inv-2b' }, 'the same time may name its run');
    await Promise.all([5_000, 3_000, 4_000].map((at) => store.recordScheduled(c.id, at, `inv-${at}`)));
    t.match(await store.get(c.id), { lastScheduledAt: 5_000, lastInvocationId: 'inv-5000' }, 'concurrent records keep the latest time');
    t.same(((await store.get(c.id)) as CronTriggerRecord).input, c.input, 'the rest of the record is untouched');
    t.equal(await store.recordScheduled('trg_ffffffffffffffffffff', 1, null), false);
    const w = webhook('alpha');
    await store.create(w);
    t.equal(await store.recordScheduled(w.id, 1, null), false, 'a webhook trigger has no schedule');
  });
}
