// What every FunctionStore must do, whichever backend: run by test/store/function-store.test.ts
// against each one. Version numbers are taken atomically, so concurrent deploys of one function
// get distinct, gapless numbers; a rollback only lands on a version that exists.
import type { Test } from 'tap';
import type { FunctionStore, VersionDraft } from '../../../dist/store/function-store.js';

const draft = (name: string, digest: string, at = 1893456000000): VersionDraft => ({
  name,
  digest,
  config: { timeoutMs: 1000, memoryMb: 128, concurrency: 10, retries: 2, retryBackoffMs: 1000, maxAgeMs: 60_000, public: false },
  exports: { handler: true, fetch: false, classes: [] },
  createdAt: at,
});

export function functionStoreConformance(t: Test, make: () => Promise<FunctionStore>): void {
  t.test('addVersion numbers versions and makes the new one active; load returns everything', async (t) => {
    const store = await make();
    const first = await store.addVersion(draft('alpha', 'a1', 1893456000000));
    t.same(first.fn, { name: 'alpha', activeVersion: 1, latestVersion: 1, createdAt: 1893456000000, updatedAt: 1893456000000 });
    t.same(first.version, { ...draft('alpha', 'a1'), version: 1 });
    const second = await store.addVersion(draft('alpha', 'a2', 1893542400000));
    t.match(second.fn, { activeVersion: 2, latestVersion: 2, createdAt: 1893456000000, updatedAt: 1893542400000 });
    await store.addVersion(draft('beta', 'b1'));
    const { functions, versions } = await store.load();
    t.same(functions.map((f) => [f.name, f.activeVersion, f.latestVersion]), [['alpha', 2, 2], ['beta', 1, 1]]);
    t.same(versions.map((v) => [v.name, v.version, v.digest]), [['alpha', 1, 'a1'], ['alpha', 2, 'a2'], ['beta', 1, 'b1']]);
    t.same(versions[0], first.version, 'a version comes back as it was stored');
  });

  t.test('loadOne returns one function as load has it, and null for none', async (t) => {
    const store = await make();
    await store.addVersion(draft('alpha', 'a1'));
    await store.addVersion(draft('alpha', 'a2'));
    await store.addVersion(draft('beta', 'b1'));
    const all = await store.load();
    const alpha = await store.loadOne('alpha');
    t.same(alpha, { fn: all.functions[0], versions: all.versions.slice(0, 2) });
    t.equal(await store.loadOne('nobody'), null);
    await store.deleteFunction('beta');
    t.equal(await store.loadOne('beta'), null, 'gone once deleted');
  });

  t.test('setActiveVersion moves to an existing version only', async (t) => {
    const store = await make();
    await store.addVersion(draft('alpha', 'a1'));
    await store.addVersion(draft('alpha', 'a2'));
    t.match(await store.setActiveVersion('alpha', 1, 1896134400000), { activeVersion: 1, latestVersion: 2, updatedAt: 1896134400000 });
    t.equal(await store.setActiveVersion('alpha', 3, 1), undefined, 'no version 3');
    t.equal(await store.setActiveVersion('nobody', 1, 1), undefined, 'no such function');
    t.match((await store.load()).functions[0], { activeVersion: 1 });
    t.match((await store.addVersion(draft('alpha', 'a3'))).fn, { activeVersion: 3, latestVersion: 3 }, 'a deploy after a rollback takes the next number');
  });

  t.test('deleteFunction removes it and its versions; a new deploy starts at 1', async (t) => {
    const store = await make();
    await store.addVersion(draft('alpha', 'a1'));
    await store.addVersion(draft('alpha', 'a2'));
    t.equal(await store.deleteFunction('alpha'), true);
    t.equal(await store.deleteFunction('alpha'), false);
    t.same(await store.load(), { functions: [], versions: [] });
    t.match((await store.addVersion(draft('alpha', 'again'))).version, { version: 1, digest: 'again' });
  });

  t.test('concurrent deploys of one function get distinct, gapless version numbers', async (t) => {
    const store = await make();
    const added = await Promise.all(Array.from({ length: 20 }, (_, i) => store.addVersion(draft('alpha', `d${i}`))));
    t.same(added.map((a) => a.version.version).sort((a, b) => a - b), Array.from({ length: 20 }, (_, i) => i + 1));
    const { functions, versions } = await store.load();
    t.match(functions[0], { latestVersion: 20 });
    t.equal(new Set(versions.map((v) => v.digest)).size, 20, 'every deploy kept its own version');
  });
}
