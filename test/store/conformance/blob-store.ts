// What every BlobStore must do, whichever backend: run by test/store/blob-store.test.ts against
// each one. Content addressing, exact bytes, a local file for workers, and, for a second store
// on the same backend with nothing cached (another node), every blob the first one put.
import type { Test } from 'tap';
import { readFile } from 'node:fs/promises';
import { digestOf, type BlobStore } from '../../../dist/store/blob-store.js';

export function blobStoreConformance(t: Test, make: () => Promise<{ store: BlobStore; peer: BlobStore }>): void {
  t.test('put by digest, idempotent; get, size and a local file give the exact bytes', async (t) => {
    const { store } = await make();
    // Every byte value, and a NUL first: nothing may treat the bytes as text.
    const bytes = Buffer.from([0, ...Array.from({ length: 256 }, (_, i) => i), 255, 0]);
    const digest = await store.put(bytes);
    t.equal(digest, digestOf(bytes));
    t.equal(await store.put(new Uint8Array(bytes)), digest, 'the same bytes again: the same digest');
    t.same(await store.get(digest), bytes);
    t.equal(await store.size(digest), bytes.length);
    t.same(await readFile(await store.localPath(digest)), bytes, 'the local file holds them');
    const empty = await store.put(new Uint8Array());
    t.equal(await store.size(empty), 0, 'an empty blob is a blob');
    t.same(await store.get(empty), Buffer.alloc(0));
  });

  t.test('a view of a larger buffer stores only its own bytes', async (t) => {
    const { store } = await make();
    const whole = Buffer.from('0123456789');
    const part = whole.subarray(3, 7);
    const digest = await store.put(part);
    t.same(await store.get(digest), Buffer.from('3456'));
  });

  t.test('unknown digests are refused; a malformed one names no file', async (t) => {
    const { store } = await make();
    const unknown = 'f'.repeat(64);
    await t.rejects(store.get(unknown));
    await t.rejects(store.size(unknown));
    await t.rejects(store.localPath('../../etc/passwd'));
  });

  t.test('another store on the same backend, with nothing cached, reads what this one put', async (t) => {
    const { store, peer } = await make();
    const bytes = Buffer.from('export default () => "from the first node";');
    const digest = await store.put(bytes);
    t.same(await readFile(await peer.localPath(digest)), bytes);
    t.same(await peer.get(digest), bytes);
    t.equal(await peer.size(digest), bytes.length);
  });
}
