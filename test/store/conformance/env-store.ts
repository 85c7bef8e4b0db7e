// What every EnvStore must do, whichever backend: run by test/store/env-store.test.ts against
// each one. Round trips, all-or-nothing changes, and limits that hold against concurrent writers.
import type { Test } from 'tap';
import type { EnvStore } from '../../../dist/store/env-store.js';

const limits = { maxEntries: 5, maxBytes: 200 };

export function envStoreConformance(t: Test, make: () => Promise<EnvStore>): void {
  t.test('apply sets and deletes; all, entries and deleteAll see it', async (t) => {
    const store = await make();
    t.same(await store.apply('alpha', { B: 'two', A: 'one' }, 1893456000000, limits), { ok: true, values: { A: 'one', B: 'two' } });
    t.same(await store.apply('beta', { X: 'ünïcödé' }, 1893456001000, limits), { ok: true, values: { X: 'ünïcödé' } });
    t.same(await store.apply('alpha', { A: null, C: 'three' }, 1893456002000, limits), { ok: true, values: { B: 'two', C: 'three' } });
    t.same(await store.entries('alpha'), [
      { name: 'B', updatedAt: 1893456000000 },
      { name: 'C', updatedAt: 1893456002000 },
    ]);
    t.same(await store.entries('nobody'), []);
    t.same(Object.fromEntries(await store.all()), { alpha: { B: 'two', C: 'three' }, beta: { X: 'ünïcödé' } });
    await store.deleteAll('alpha');
    t.same(await store.entries('alpha'), []);
    t.same(Object.fromEntries(await store.all()), { beta: { X: 'ünïcödé' } });
    await store.apply('beta', { X: null }, 1893456003000, limits);
    t.same(Object.fromEntries(await store.all()), {}, 'a function whose last value went is not listed');
  });

  t.test('a change past a limit is refused whole, saying what it would have made', async (t) => {
    const store = await make();
    await store.apply('alpha', { A: 'a' }, 1, limits);
    t.same(await store.apply('alpha', { B: 'b', C: 'c', D: 'd', E: 'e', F: 'f' }, 1, limits), { ok: false, entries: 6, bytes: 12 });
    t.same(await store.apply('alpha', { B: 'x'.repeat(300) }, 1, limits), { ok: false, entries: 2, bytes: 303 });
    t.same(Object.fromEntries(await store.all()), { alpha: { A: 'a' } }, 'nothing of a refused change is kept');
    t.same(await store.apply('alpha', { ß: 'é'.repeat(99) }, 1, limits), { ok: false, entries: 2, bytes: 2 + 2 + 198 }, 'bytes are UTF-8 bytes: 101 characters, 202 bytes');
  });

  t.test('concurrent changes cannot together pass a limit', async (t) => {
    const store = await make();
    const results = await Promise.all(['A', 'B', 'C', 'D', 'E', 'F', 'G', 'H'].map((name) => store.apply('alpha', { [name]: 'v' }, 1, limits)));
    t.equal(results.filter((r) => r.ok).length, 5, 'exactly as many land as the limit allows');
    t.equal(Object.keys((await store.all()).get('alpha') ?? {}).length, 5);
  });
}
