// What every BatchStore must do, whichever backend: run by test/store/batch-store.test.ts against
// each one. A batch and its members are stored at once (or, with a known idempotency key, not at
// all); members come back in input order and counted by status; of concurrent finishers exactly
// one wins; open and purge see what a restart and the retention need.
import type { Test } from 'tap';
import { finish } from '../../../dist/invocations/invocation-record.js';
import type { BatchStore } from '../../../dist/store/batch-store.js';
import type { InvocationStore } from '../../../dist/store/invocation-store.js';
import type { BatchRecord, InvocationRecord } from '../../../dist/store/records.js';
import { queued } from './invocation-store.js';

const T0 = 1_900_000_000_000;
let n = 0;

export interface BatchStores {
  batches: BatchStore;
  invocations: InvocationStore;
}

function batchOf(size: number, extra: Partial<BatchRecord> = {}): { batch: BatchRecord; members: InvocationRecord[] } {
  n++;
  const id = `b0000000-0000-4000-8000-${n.toString(16).padStart(12, '0')}`;
  const batch: BatchRecord = { id, function: 'alpha', version: 1, size, idempotencyKey: null, requestHash: null, callback: null, cancelRequested: false, createdAt: T0 + n, finishedAt: null, ...extra };
  const members = Array.from({ length: size }, (_, index) => queued('alpha', T0 + n, { batchId: id, index, input: { index } }));
  return { batch, members };
}

export function batchStoreConformance(t: Test, make: () => Promise<BatchStores>): void {
  t.test('a batch and its members are stored at once, and read back in input order', async (t) => {
    const { batches, invocations } = await make();
    const { batch, members } = batchOf(5);
    t.same(await batches.submit(batch, members), { batch, existed: false });
    t.same(await batches.get(batch.id), batch);
    t.same(await invocations.get(members[3]!.id), members[3], 'each member is an ordinary invocation');
    t.same((await batches.members(batch.id, 0, 10)).map((m) => m.index), [0, 1, 2, 3, 4]);
    t.same((await batches.members(batch.id, 2, 2)).map((m) => m.id), [members[2]!.id, members[3]!.id], 'paged from an index');
    t.same(await batches.members(batch.id, 5, 10), []);
    t.same(await batches.counts(batch.id), { queued: 5, running: 0, retrying: 0, succeeded: 0, failed: 0, cancelled: 0 });
    t.equal(await batches.get('b0000000-0000-4000-8000-ffffffffffff'), undefined);
    t.same((await invocations.due(T0 + 1_000_000, 100, [])).length, 5, 'its members are due like any submission');
  });

  t.test('counts follow the members as they change', async (t) => {
    const { batches, invocations } = await make();
    const { batch, members } = batchOf(3);
    await batches.submit(batch, members);
    const [claim] = await invocations.claim([members[0]!.id], { owner: 'node-a/1', ms: 30_000 }, T0 + 1_000_000);
    t.same(await batches.counts(batch.id), { queued: 2, running: 1, retrying: 0, succeeded: 0, failed: 0, cancelled: 0 });
    finish(claim!.record, 'succeeded', T0 + 1_000_001, { result: 1 });
    await invocations.settle(claim!.token, claim!.record, []);
    t.same((await batches.counts(batch.id)).succeeded, 1);
    t.same((await batches.members(batch.id, 0, 1))[0]!.result, 1);
  });

  t.test('an idempotency key yields the first batch and writes nothing', async (t) => {
    const { batches, invocations } = await make();
    const first = batchOf(2, { idempotencyKey: 'k', requestHash: 'h1' });
    const again = batchOf(3, { idempotencyKey: 'k', requestHash: 'h2' });
    await batches.submit(first.batch, first.members);
    const replay = await batches.submit(again.batch, again.members);
    t.equal(replay.existed, true);
    t.same(replay.batch, first.batch);
    t.equal(await batches.get(again.batch.id), undefined);
    t.equal(await invocations.get(again.members[0]!.id), undefined, 'none of its members was stored');
  });

  t.test('a batch with a member id that exists is refused whole', async (t) => {
    const { batches, invocations } = await make();
    const first = batchOf(1);
    await batches.submit(first.batch, first.members);
    const clash = batchOf(2);
    clash.members[1] = { ...first.members[0]!, batchId: clash.batch.id, index: 1 };
    await t.rejects(batches.submit(clash.batch, clash.members));
    t.equal(await batches.get(clash.batch.id), undefined);
    t.equal(await invocations.get(clash.members[0]!.id), undefined, 'no member of it either');
  });

  t.test('finish: exactly one of concurrent finishers wins; open and purge', async (t) => {
    const { batches } = await make();
    const { batch, members } = batchOf(1, { callback: { url: 'http://127.0.0.1:1/', status: 'pending', attempts: 0, nextAt: null, lastError: null } });
    await batches.submit(batch, members);
    t.ok((await batches.open(100)).some((b) => b.id === batch.id), 'open while not finished');
    const finishers = await Promise.all(Array.from({ length: 5 }, () => batches.finish(batch.id, T0 + 10)));
    t.equal(finishers.filter(Boolean).length, 1);
    t.ok((await batches.open(100)).some((b) => b.id === batch.id), 'still open with its callback pending');
    t.equal(await batches.purgeFinishedBefore(T0 + 1_000), 0, 'kept while its callback is pending');
    await batches.saveCallback(batch.id, { url: 'http://127.0.0.1:1/', status: 'delivered', attempts: 1, nextAt: null, lastError: null });
    t.notOk((await batches.open(100)).some((b) => b.id === batch.id));
    t.equal((await batches.markCancelled(batch.id))?.cancelRequested, true);
    t.equal(await batches.purgeFinishedBefore(T0 + 5), 0, 'not before its time');
    t.equal(await batches.purgeFinishedBefore(T0 + 1_000), 1);
    t.equal(await batches.get(batch.id), undefined);
  });

  t.test('10,000 members in one submission', async (t) => {
    const { batches } = await make();
    const { batch, members } = batchOf(10_000);
    await batches.submit(batch, members);
    t.equal((await batches.counts(batch.id)).queued, 10_000);
    t.same((await batches.members(batch.id, 9_998, 10)).map((m) => m.index), [9_998, 9_999]);
  });
}
