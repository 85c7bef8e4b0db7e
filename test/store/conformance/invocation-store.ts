// What every InvocationStore must do, whichever backend: run by
// test/store/invocation-store.test.ts against each one. Round trips, and the rules that hold
// with several claimers: only one claimer wins an invocation, an outcome is written only with a
// token that still holds the lease, an expired lease is taken back, an idempotency key yields
// the first record, a cancel and a claim never both win.
import type { Test } from 'tap';
import { finish, newRecord } from '../../../dist/invocations/invocation-record.js';
import type { InvocationStore, Lease } from '../../../dist/store/invocation-store.js';
import type { InvocationRecord } from '../../../dist/store/records.js';

let n = 0;
const T0 = 1_900_000_000_000;

export function queued(fn: string, at = T0, extra: Partial<InvocationRecord> = {}): InvocationRecord {
  n++;
  const record = newRecord({
    id: `00000000-0000-4000-8000-${n.toString(16).padStart(12, '0')}`,
    function: fn,
    version: 1,
    mode: 'async',
    // Shapes a careless store would change on the way through.
    input: { list: [], empty: {}, big: 9_007_199_254_740_991, none: null, text: 'ünïcode ✓' },
    maxAttempts: 3,
    maxAgeMs: 86_400_000,
    now: at,
  });
  return Object.assign(record, extra);
}

const A: Lease = { owner: 'node-a/1', ms: 30_000 };
const B: Lease = { owner: 'node-b/1', ms: 30_000 };
const log = (message: string) => ({ time: T0, level: 'log' as const, message, attempt: 1 });

export function invocationStoreConformance(t: Test, make: () => Promise<InvocationStore>): void {
  t.test('submit and read back exactly; unknown ids are undefined', async (t) => {
    const store = await make();
    const record = queued('alpha');
    t.same(await store.submit(record), { record, existed: false });
    t.same(await store.get(record.id), record, 'every value comes back as it went in');
    t.same(await store.logs(record.id), [], 'no logs yet');
    t.equal(await store.get('00000000-0000-4000-8000-ffffffffffff'), undefined);
    t.equal(await store.logs('00000000-0000-4000-8000-ffffffffffff'), undefined);
    await t.rejects(store.submit({ ...record }), 'the same id twice is refused');
  });

  t.test('an idempotency key yields the first record, within its scope only', async (t) => {
    const store = await make();
    const first = queued('alpha', T0, { idempotencyKey: 'k1', requestHash: 'hash-1' });
    const again = queued('alpha', T0 + 1, { idempotencyKey: 'k1', requestHash: 'hash-2' });
    const elsewhere = queued('beta', T0 + 2, { idempotencyKey: 'k1', requestHash: 'hash-1' });
    t.equal((await store.submit(first)).existed, false);
    const replay = await store.submit(again);
    t.equal(replay.existed, true);
    t.same(replay.record, first, 'the stored one, with its request hash to tell a reuse from a replay');
    t.equal(await store.get(again.id), undefined, 'the second was not stored');
    t.equal((await store.submit(elsewhere)).existed, false, 'another function is another scope');
  });

  t.test('a concurrency key is held until its invocation is final: equal submissions at once store one', async (t) => {
    const store = await make();
    const first = queued('alpha', T0, { concurrencyKey: 'alpha:k' });
    t.same(await store.submit(first), { record: first, existed: false });
    const second = queued('alpha', T0 + 1, { concurrencyKey: 'alpha:k' });
    t.same(await store.submit(second), { record: first, existed: true, pending: true }, 'a queued one holds the key');
    t.equal(await store.get(second.id), undefined, 'the second was not stored');
    t.equal((await store.submit(queued('alpha', T0 + 2, { concurrencyKey: 'alpha:other' }))).existed, false, 'another key is free');
    t.equal((await store.submit(queued('alpha', T0 + 2))).existed, false, 'no key, no control');

    const keyed = queued('alpha', T0 + 3, { concurrencyKey: 'alpha:k', idempotencyKey: 'idem-1', requestHash: 'h' });
    const replay = await store.submit({ ...keyed, id: queued('alpha').id });
    t.equal(replay.record.id, first.id, 'an idempotency key that is new does not get past a held concurrency key');

    const [claim] = await store.claim([first.id], A, T0 + 10);
    const running = await store.submit(queued('alpha', T0 + 11, { concurrencyKey: 'alpha:k' }));
    t.same([running.record.id, running.pending], [first.id, true], 'a running one holds it');
    const failed = { ...claim!.record };
    finish(failed, 'failed', T0 + 20, { error: { code: 'X', message: 'x' } });
    t.equal(await store.settle(claim!.token, failed, []), true);
    const after = queued('alpha', T0 + 21, { concurrencyKey: 'alpha:k' });
    t.same(await store.submit(after), { record: after, existed: false }, 'a final one lets it go');

    const cancelled = await store.cancel(after.id, (record) => finish(record, 'cancelled', T0 + 22, { error: { code: 'CANCELLED', message: 'x' } }));
    t.equal(cancelled?.outcome, 'cancelled');
    const holder = queued('alpha', T0 + 23, { concurrencyKey: 'alpha:k' });
    t.equal((await store.submit(holder)).existed, false, 'so does a cancelled one');

    const rerun = await store.rerun(first.id, (record) => Object.assign(record, { status: 'queued', finishedAt: null, error: null }));
    t.equal(rerun?.rerun, true, 'a failed one runs again, without taking the key back:');
    const later = await store.submit(queued('alpha', T0 + 24, { concurrencyKey: 'alpha:k' }));
    t.same([later.record.id, later.pending], [holder.id, true], 'the one holding it still does');
  });

  t.test('of 50 concurrent submissions with one concurrency key, exactly one is stored', async (t) => {
    const store = await make();
    const records = Array.from({ length: 50 }, (_, i) => queued('alpha', T0 + i, { concurrencyKey: 'alpha:herd' }));
    const answers = await Promise.all(records.map((record) => store.submit(record)));
    const stored = answers.filter((answer) => !answer.existed);
    t.equal(stored.length, 1, 'one stored');
    t.ok(answers.every((answer) => answer.record.id === stored[0]!.record.id), 'every answer names it');
    t.equal((await store.list({ function: 'alpha', limit: 100 })).length, 1, 'one in the store');
  });

  t.test('due: waiting and due, oldest first, skipping functions; nextRunAt', async (t) => {
    const store = await make();
    const late = queued('alpha', T0 + 50);
    const early = queued('alpha', T0 + 10);
    const other = queued('beta', T0 + 20);
    const future = queued('alpha', T0 + 10_000);
    for (const record of [late, early, other, future]) await store.submit(record);
    t.same((await store.due(T0 + 100, 10, [])).map((r) => r.id), [early.id, other.id, late.id]);
    t.same((await store.due(T0 + 100, 2, [])).map((r) => r.id), [early.id, other.id], 'limited');
    t.same((await store.due(T0 + 100, 10, ['alpha'])).map((r) => r.id), [other.id], 'skipped functions');
    t.equal(await store.nextRunAt(), T0 + 10);
  });

  t.test('claim: running with one more attempt, leased; of two claimers only one wins', async (t) => {
    const store = await make();
    const record = queued('alpha');
    const notDue = queued('alpha', T0 + 60_000);
    await store.submit(record);
    await store.submit(notDue);
    const [a, b] = await Promise.all([store.claim([record.id, notDue.id], A, T0 + 5), store.claim([record.id, notDue.id], B, T0 + 5)]);
    const won = [...a!, ...b!];
    t.equal(won.length, 1, 'exactly one claim in all');
    const claim = won[0]!;
    t.equal(claim.record.id, record.id, 'what is not due is not claimed');
    t.equal(claim.record.status, 'running');
    t.equal(claim.record.attempts, 1);
    t.equal(claim.record.startedAt, T0 + 5);
    t.type(claim.token, 'string');
    t.same(await store.get(record.id), claim.record);
    t.same(await store.due(T0 + 100, 10, []), [], 'a claimed invocation is not due');
    t.same(await store.claim([record.id], A, T0 + 6), [], 'nor claimed again');
  });

  t.test('settle: the outcome and its logs are written with the token; a stale token is refused', async (t) => {
    const store = await make();
    const record = queued('alpha');
    await store.submit(record);
    const [claim] = await store.claim([record.id], A, T0);
    const failed = { ...claim!.record, status: 'retrying' as const, runAt: T0 + 1000 };
    t.equal(await store.settle('someone-else', failed, [log('nope')]), false, 'a token that never held it');
    t.same(await store.get(record.id), claim!.record, 'nothing written');
    t.equal(await store.settle(claim!.token, failed, [log('one')]), true);
    t.same(await store.get(record.id), failed);
    t.same((await store.logs(record.id))!.map((l) => l.message), ['one']);
    t.equal(await store.settle(claim!.token, { ...failed, status: 'failed' }, [log('two')]), false, 'the token is spent');
    t.equal((await store.get(record.id))!.status, 'retrying');
    t.same((await store.due(T0 + 1000, 10, [])).map((r) => r.id), [record.id], 'waiting again');
    const [second] = await store.claim([record.id], B, T0 + 1000);
    t.equal(second!.record.attempts, 2);
    t.equal(second!.record.startedAt, T0, 'the first start stays');
    const done = { ...second!.record };
    finish(done, 'succeeded', T0 + 1001, { result: { ok: true } });
    t.equal(await store.settle(second!.token, done, [log('two')]), true);
    t.same(await store.get(record.id), done);
    t.same((await store.logs(record.id))!.map((l) => l.message), ['one', 'two'], 'logs of every attempt, in order');
  });

  t.test('renew: only the holder renews; a settled or taken-over lease is not renewed', async (t) => {
    const store = await make();
    const record = queued('alpha');
    await store.submit(record);
    const [claim] = await store.claim([record.id], A, T0);
    t.same(await store.renew([claim!.token], A, T0 + 20_000), [claim!.token]);
    t.same(await store.reclaim(B, 'node-b', T0 + 40_000), [], 'renewed: not expired at the old expiry');
    t.same(await store.renew([claim!.token], B, T0 + 20_000), [], 'another owner cannot renew it');
    t.same(await store.renew([claim!.token, 'unknown/token'], A, T0 + 20_000), [claim!.token]);
    const taken = await store.reclaim(B, 'node-b', T0 + 60_000);
    t.equal(taken.length, 1, 'expired at 30 s after the last renewal');
    t.same(await store.renew([claim!.token], A, T0 + 60_001), [], 'the old holder lost it');
    t.equal(await store.settle(claim!.token, { ...claim!.record, status: 'failed' }, []), false);
  });

  t.test('reclaim: expired leases and those of an earlier incarnation of this node', async (t) => {
    const store = await make();
    const mine = queued('alpha');
    const theirs = queued('alpha');
    await store.submit(mine);
    await store.submit(theirs);
    await store.claim([mine.id], { owner: 'node-a/old', ms: 30_000 }, T0);
    await store.claim([theirs.id], B, T0);
    const now: Lease = { owner: 'node-a/new', ms: 30_000 };
    const back = await store.reclaim(now, 'node-a', T0 + 1);
    t.same(back.map((c) => c.record.id), [mine.id], 'the earlier incarnation only; another node holds its lease still');
    t.equal(back[0]!.record.status, 'running', 'as it was stored');
    t.same(await store.reclaim(now, 'node-a', T0 + 2), [], 'taken back once');
    const expired = await store.reclaim(now, 'node-a', T0 + 30_000);
    t.same(expired.map((c) => c.record.id), [theirs.id], 'another node\'s, once expired');
    const settled = { ...expired[0]!.record, status: 'retrying' as const, runAt: T0 + 30_000 };
    t.equal(await store.settle(expired[0]!.token, settled, []), true, 'the new token holds');
  });

  t.test('cancel: a waiting one ends, a running one is marked, a final one is left', async (t) => {
    const store = await make();
    const waiting = queued('alpha');
    const running = queued('alpha');
    await store.submit(waiting);
    await store.submit(running);
    const [claim] = await store.claim([running.id], A, T0);
    const end = (record: InvocationRecord) => finish(record, 'cancelled', T0 + 1, { error: { code: 'INVOCATION_CANCELLED', message: 'cancelled' } });
    const first = await store.cancel(waiting.id, end);
    t.equal(first?.outcome, 'cancelled');
    t.equal((await store.get(waiting.id))!.status, 'cancelled');
    t.same(await store.due(T0 + 10, 10, []), [], 'no longer due');
    const second = await store.cancel(running.id, end);
    t.equal(second?.outcome, 'running');
    t.equal((await store.get(running.id))!.cancelRequested, true, 'the request is stored');
    t.equal((await store.get(running.id))!.status, 'running');
    const stopped = { ...second!.record };
    end(stopped);
    t.equal(await store.settle(claim!.token, stopped, []), true, 'the attempt keeps its lease and ends it');
    t.equal((await store.cancel(running.id, end))?.outcome, 'final');
    t.equal(await store.cancel('00000000-0000-4000-8000-ffffffffffff', end), undefined);
  });

  t.test('a cancel and a claim of one waiting invocation never both win', async (t) => {
    const store = await make();
    const records = Array.from({ length: 20 }, () => queued('alpha'));
    for (const record of records) await store.submit(record);
    const end = (record: InvocationRecord) => finish(record, 'cancelled', T0 + 1, {});
    const [claims, ...cancels] = await Promise.all([store.claim(records.map((r) => r.id), A, T0 + 1), ...records.map((r) => store.cancel(r.id, end))]);
    const claimed = new Set(claims!.map((c) => c.record.id));
    for (const [index, record] of records.entries()) {
      const outcome = cancels[index]!.outcome;
      t.equal(outcome, claimed.has(record.id) ? 'running' : 'cancelled', `${record.id}: ${outcome}`);
    }
  });

  t.test('rerun: a failed or cancelled one waits again; others are left', async (t) => {
    const store = await make();
    const record = queued('alpha');
    await store.submit(record);
    const [claim] = await store.claim([record.id], A, T0);
    t.equal((await store.rerun(record.id, () => t.fail('not changed')))?.rerun, false, 'running is left');
    const failed = { ...claim!.record };
    finish(failed, 'failed', T0 + 1, { error: { code: 'FUNCTION_ERROR', message: 'x' } });
    await store.settle(claim!.token, failed, []);
    const again = await store.rerun(record.id, (r) => Object.assign(r, { status: 'queued', runAt: T0 + 5, finishedAt: null, error: null }));
    t.equal(again?.rerun, true);
    t.equal((await store.get(record.id))!.status, 'queued');
    t.same((await store.due(T0 + 5, 10, [])).map((r) => r.id), [record.id]);
    t.equal(await store.rerun('00000000-0000-4000-8000-ffffffffffff', () => undefined), undefined);
  });

  t.test('list newest first, by function and status, paged; children oldest first', async (t) => {
    const store = await make();
    const records = [queued('alpha', T0 + 1), queued('beta', T0 + 2), queued('alpha', T0 + 3), queued('alpha', T0 + 3)];
    for (const record of records) await store.submit(record);
    const [claim] = await store.claim([records[0]!.id], A, T0 + 10);
    const ids = (list: InvocationRecord[]) => list.map((r) => r.id);
    // Equal times fall back on the id, larger first.
    const newest = [records[3]!.id, records[2]!.id, records[1]!.id, records[0]!.id];
    t.same(ids(await store.list({ limit: 10 })), newest);
    t.same(ids(await store.list({ limit: 2 })), newest.slice(0, 2));
    t.same(ids(await store.list({ limit: 2, before: newest[1] })), newest.slice(2), 'the next page');
    t.same(ids(await store.list({ limit: 10, function: 'alpha' })), [records[3]!.id, records[2]!.id, records[0]!.id]);
    t.same(ids(await store.list({ limit: 10, status: 'running' })), [records[0]!.id]);
    t.same(ids(await store.list({ limit: 10, status: 'queued', function: 'alpha' })), [records[3]!.id, records[2]!.id]);
    t.same(ids(await store.list({ limit: 10, function: 'nobody' })), []);
    const child = (at: number) => {
      const record = queued('beta', at, { parentId: records[0]!.id, mode: 'nested' });
      finish(record, 'succeeded', at + 1, { result: 1 });
      return record;
    };
    const [c2, c1] = [child(T0 + 20), child(T0 + 12)];
    await store.recordFinished(c2, [log('from the child')]);
    await store.recordFinished(c1, []);
    t.same(ids(await store.children(records[0]!.id)), [c1.id, c2.id]);
    t.same((await store.logs(c2.id))!.map((l) => l.message), ['from the child']);
    t.same(await store.children(records[1]!.id), []);
    t.ok(claim);
  });

  t.test('callbacks: claimed once per lease, stored unless run again meanwhile', async (t) => {
    const store = await make();
    const record = queued('alpha', T0, { callback: { url: 'http://127.0.0.1:9/cb', status: 'pending', attempts: 0, nextAt: null, lastError: null } });
    await store.submit(record);
    t.same(await store.claimCallbacks(T0 + 100, 10, 5_000), [], 'not final yet');
    const [claim] = await store.claim([record.id], A, T0);
    const done = { ...claim!.record, callback: { ...claim!.record.callback! } };
    finish(done, 'succeeded', T0 + 10, { result: 'ok' });
    await store.settle(claim!.token, done, []);
    t.equal(await store.nextCallbackAt(), T0 + 10);
    const [due] = await store.claimCallbacks(T0 + 10, 10, 5_000);
    t.equal(due?.id, record.id);
    t.same(await store.claimCallbacks(T0 + 11, 10, 5_000), [], 'claimed: not due to another sender');
    t.same((await store.claimCallbacks(T0 + 5_010, 10, 5_000)).map((r) => r.id), [record.id], 'due again once the claim ran out');
    const failedOnce = { ...due!.callback!, attempts: 1, nextAt: T0 + 20_000, lastError: 'the receiver answered 500' };
    t.same((await store.settleCallback(record.id, due!.attempts, failedOnce))?.callback, failedOnce);
    t.equal(await store.nextCallbackAt(), T0 + 20_000);
    t.equal(await store.settleCallback(record.id, due!.attempts + 1, { ...failedOnce, status: 'delivered' }), undefined, 'another run of it');
    const delivered = { ...failedOnce, status: 'delivered' as const, attempts: 2, nextAt: null, lastError: null };
    await store.settleCallback(record.id, due!.attempts, delivered);
    t.same((await store.get(record.id))!.callback, delivered);
    t.equal(await store.nextCallbackAt(), undefined, 'nothing left to deliver');
  });

  t.test('purge: final ones finished before the time, unless a callback is pending', async (t) => {
    const store = await make();
    const old = queued('alpha', T0, { idempotencyKey: 'purged-key' });
    const pending = queued('alpha', T0, { callback: { url: 'http://127.0.0.1:9/cb', status: 'pending', attempts: 0, nextAt: null, lastError: null } });
    const recent = queued('alpha', T0);
    const waiting = queued('alpha', T0);
    for (const record of [old, pending, recent, waiting]) await store.submit(record);
    for (const [record, at] of [[old, T0 + 1], [pending, T0 + 1], [recent, T0 + 1_000]] as const) {
      const [claim] = await store.claim([record.id], A, T0);
      const done = { ...claim!.record, callback: claim!.record.callback && { ...claim!.record.callback } };
      finish(done, 'succeeded', at, { result: 1 });
      await store.settle(claim!.token, done, [log('x')]);
    }
    t.equal(await store.purgeFinishedBefore(T0 + 500), 1);
    t.equal(await store.get(old.id), undefined);
    t.equal(await store.logs(old.id), undefined, 'its logs too');
    t.ok(await store.get(pending.id), 'a callback still to deliver keeps it');
    t.ok(await store.get(recent.id));
    t.ok(await store.get(waiting.id), 'a waiting one is never purged');
    t.same((await store.list({ limit: 10 })).map((r) => r.id).includes(old.id), false, 'gone from the lists');
    const reused = queued('alpha', T0 + 2, { idempotencyKey: 'purged-key' });
    t.equal((await store.submit(reused)).existed, false, 'its idempotency key is free again');
  });
}
