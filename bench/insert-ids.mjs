#!/usr/bin/env node
// Submissions into the embedded store's invocations table, with random (v4) ids against
// time-ordered (v7) ones, side by side: BENCH_INSERT_ROWS (default 20,000) already stored, then
// commits of 45 submissions each (what one event-loop turn carried under wrk -c50), three
// alternating rounds. Prints the time per submission, commit included (synchronous=FULL).
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { timeOrderedId } from '../dist/common/time-ordered-id.js';
import { openDatabase } from '../dist/store/database.js';
import { SqliteInvocationStore } from '../dist/store/sqlite-invocation-store.js';
import { WriteBatcher } from '../dist/store/write-batcher.js';
import { median } from './lib.mjs';
import { queuedRecord } from './queue-lib.mjs';

const stored = Number(process.env.BENCH_INSERT_ROWS ?? 20000);
const PER_COMMIT = 45;
const COMMITS = 200;
const kinds = { 'random (v4)': () => randomUUID(), 'time-ordered (v7)': () => timeOrderedId() };

async function submitAll(store, id, n, perCommit) {
  for (let done = 0; done < n; done += perCommit) await Promise.all(Array.from({ length: perCommit }, () => store.submit(queuedRecord(id()))));
}

/** Microseconds per submission into a store already holding `stored` rows. */
async function measure(id) {
  const dir = mkdtempSync(join(tmpdir(), 'wisp-bench-ids-'));
  const db = openDatabase(join(dir, 'wisp.db'));
  try {
    const store = new SqliteInvocationStore(db, new WriteBatcher(db));
    await submitAll(store, id, stored, 500);
    const started = performance.now();
    await submitAll(store, id, COMMITS * PER_COMMIT, PER_COMMIT);
    return ((performance.now() - started) * 1000) / (COMMITS * PER_COMMIT);
  } finally {
    db.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

const times = Object.fromEntries(Object.keys(kinds).map((name) => [name, []]));
for (let round = 0; round < 3; round++) for (const [name, id] of Object.entries(kinds)) times[name].push(await measure(id));
console.log(`${stored} stored, then ${COMMITS} commits of ${PER_COMMIT} submissions; median of 3 alternating rounds`);
const [random, ordered] = Object.values(times).map(median);
for (const [name, values] of Object.entries(times)) console.log(`${name.padEnd(18)} ${median(values).toFixed(1).padStart(6)} µs per submission  (${values.map((v) => v.toFixed(1)).join(', ')})`);
console.log(`time-ordered / random: ${(ordered / random).toFixed(2)}`);
