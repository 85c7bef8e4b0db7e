#!/usr/bin/env node
// The embedded queue's own cost of one completion, without HTTP or threads: DEPTH invocations
// queued, then the dispatcher's cycle (due, claim 8, settle each as succeeded, the claims' and
// outcomes' writes sharing group commits) until 3,000 are done. Prints µs per completion, and the
// share of it waited in due(), claim() and settle() (settle includes the commit). With an old
// build's directory, both builds run in alternating rounds:
//   node bench/store-drain.mjs [OLD_DIR]
// BENCH_STORE_DEPTHS (default 1000,20000,100000), BENCH_ROUNDS (default 3), BENCH_STORE_SYNC
// (a PRAGMA synchronous value, e.g. OFF: without the fsync, the statements' cost shows through
// this machine's noise).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { median, root, rounds } from './lib.mjs';
import { queuedRecord } from './queue-lib.mjs';

const depths = (process.env.BENCH_STORE_DEPTHS ?? '1000,20000,100000').split(',').map(Number);
const sync = process.env.BENCH_STORE_SYNC;
const builds = [...(process.argv[2] ? [['old', resolve(process.argv[2])]] : []), ['this', root]];
const LEASE = { owner: 'bench/1', ms: 30_000 };
const SLOTS = 8;

async function load(dir) {
  const dist = join(dir, 'dist');
  const [{ timeOrderedId }, { openDatabase }, { SqliteInvocationStore }, { WriteBatcher }] = await Promise.all(
    ['common/time-ordered-id.js', 'store/database.js', 'store/sqlite-invocation-store.js', 'store/write-batcher.js'].map((file) => import(join(dist, file))),
  );
  return { timeOrderedId, openDatabase, SqliteInvocationStore, WriteBatcher };
}

async function measure(lib, depth) {
  const dir = mkdtempSync(join(tmpdir(), 'wisp-bench-store-drain-'));
  const db = lib.openDatabase(join(dir, 'wisp.db'));
  if (sync) db.exec(`PRAGMA synchronous = ${sync}`);
  try {
    const store = new lib.SqliteInvocationStore(db, new lib.WriteBatcher(db));
    for (let done = 0; done < depth; done += 500) {
      await Promise.all(Array.from({ length: Math.min(500, depth - done) }, () => store.submit(queuedRecord(lib.timeOrderedId()))));
    }
    const completions = Math.min(3000, Math.floor(depth * 0.8));
    const waited = { due: 0, claim: 0, settle: 0 };
    let done = 0;
    const began = performance.now();
    while (done < completions) {
      let at = performance.now();
      const due = await store.due(Date.now(), SLOTS * 2, []);
      waited.due += performance.now() - at;
      at = performance.now();
      const claims = await store.claim(due.slice(0, SLOTS).map((record) => record.id), LEASE, Date.now());
      waited.claim += performance.now() - at;
      if (claims.length === 0) throw new Error(`nothing claimed after ${done}`);
      at = performance.now();
      await Promise.all(
        claims.map(({ record, token }) => store.settle(token, { ...record, status: 'succeeded', finishedAt: Date.now(), result: { greeting: 'hi' } }, [])),
      );
      waited.settle += performance.now() - at;
      done += claims.length;
    }
    const perCompletion = (ms) => (ms * 1000) / done;
    return { total: perCompletion(performance.now() - began), due: perCompletion(waited.due), claim: perCompletion(waited.claim), settle: perCompletion(waited.settle) };
  } finally {
    db.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

const libs = await Promise.all(builds.map(([, dir]) => load(dir)));
console.log(`µs per completion, median of ${rounds} alternating rounds${sync ? `, synchronous=${sync}` : ''}`);
for (const depth of depths) {
  const samples = builds.map(() => []);
  for (let round = 0; round < rounds; round++) for (const [index, lib] of libs.entries()) samples[index].push(await measure(lib, depth));
  const medians = samples.map((runs) => Object.fromEntries(['total', 'due', 'claim', 'settle'].map((key) => [key, median(runs.map((run) => run[key]))])));
  for (const [index, [label]] of builds.entries()) {
    const m = medians[index];
    console.log(`${String(depth).padStart(7)} queued, ${label.padEnd(4)}: ${m.total.toFixed(1).padStart(6)}  (due ${m.due.toFixed(1)}, claim ${m.claim.toFixed(1)}, settle+commit ${m.settle.toFixed(1)})  runs: ${samples[index].map((run) => run.total.toFixed(0)).join(', ')}`);
  }
  if (builds.length === 2) console.log(`${' '.repeat(7)}         this/old: ${(medians[1].total / medians[0].total).toFixed(2)}`);
}
