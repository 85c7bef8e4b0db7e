// Group commit on a connection whose COMMIT does not sync (synchronous=NORMAL): a write is
// acknowledged only once the commit holding it is synced, a failed sync acknowledges none of its
// writes, and a reader waits for the sync of what it could see. WalSync against a real WAL file.
import t, { type Test } from 'tap';
import { join } from 'node:path';
import { openDatabase, openGroupCommitConnection } from '../../dist/store/database.js';
import { WalSync } from '../../dist/store/wal-sync.js';
import { WriteBatcher, type CommitSync } from '../../dist/store/write-batcher.js';
import { tempDir } from '../helpers/temp-dir.js';

/** A sync the test ends by hand: each sync() call waits until release() or fail(). */
class HeldSync implements CommitSync {
  readonly #held: { resolve: () => void; reject: (err: unknown) => void }[] = [];
  readonly #started: (() => void)[] = [];

  get pending(): boolean {
    return this.#held.length > 0;
  }

  sync(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.#held.push({ resolve, reject });
      this.#started.splice(0).forEach((notify) => notify());
    });
  }

  /** Resolves once some sync() is waiting. */
  started(): Promise<void> {
    return this.#held.length > 0 ? Promise.resolve() : new Promise((resolve) => this.#started.push(resolve));
  }

  release(): void {
    this.#held.splice(0).forEach((held) => held.resolve());
  }

  fail(err: Error): void {
    this.#held.splice(0).forEach((held) => held.reject(err));
  }
}

function setUp(t: Test) {
  const file = join(tempDir(), 'wisp.db');
  const db = openDatabase(file);
  db.exec('CREATE TABLE notes (id INTEGER PRIMARY KEY, text TEXT NOT NULL)');
  const queue = openGroupCommitConnection(file);
  t.teardown(() => {
    queue.close();
    db.close();
  });
  const count = () => (db.prepare('SELECT COUNT(*) AS n FROM notes').get() as { n: number }).n;
  const insert = queue.prepare('INSERT INTO notes (text) VALUES (?)');
  return { file, db, queue, count, insert };
}

t.test('a write is acknowledged once its commit is synced, not when it commits', async (t) => {
  const { queue, count, insert } = setUp(t);
  const sync = new HeldSync();
  const writes = new WriteBatcher(queue, sync);
  let acknowledged = false;
  const written = writes.write(() => insert.run('one')).then(() => (acknowledged = true));
  await sync.started();
  t.equal(count(), 1, 'committed: another connection sees the row');
  t.equal(acknowledged, false, 'but the write waits for the sync');
  t.equal(sync.pending, true);
  sync.release();
  await written;
  t.equal(acknowledged, true);
});

t.test('a failed sync acknowledges none of the writes it carried', async (t) => {
  const { queue, insert } = setUp(t);
  const sync = new HeldSync();
  const writes = new WriteBatcher(queue, sync);
  const first = writes.write(() => insert.run('one'));
  const second = writes.write(() => insert.run('two'));
  await sync.started();
  sync.fail(new Error('EIO: the disk went away'));
  await t.rejects(first, /EIO/);
  await t.rejects(second, /EIO/);
});

t.test('a reader waits for the sync of what it can already see', async (t) => {
  const { queue, insert } = setUp(t);
  const sync = new HeldSync();
  const writes = new WriteBatcher(queue, sync);
  const written = writes.write(() => insert.run('one'));
  await sync.started();
  let readable = false;
  const reading = writes.durable().then(() => (readable = true));
  // The reader's own sync() call is the second one held now.
  await new Promise((resolve) => setImmediate(resolve));
  t.equal(readable, false, 'the commit is not on disk yet');
  sync.release();
  await Promise.all([written, reading]);
  t.equal(readable, true);
  // Nothing pending: durable() answers at once, without a sync.
  t.equal(sync.pending, false);
  await writes.durable();
  t.equal(sync.pending, false);
});

t.test('WalSync syncs the WAL file a NORMAL connection commits into', async (t) => {
  const { file, queue, count, insert } = setUp(t);
  const wal = new WalSync(file);
  t.teardown(() => wal.close());
  const writes = new WriteBatcher(queue, wal);
  // Many writes in many turns: each acknowledged, every row committed, the syncs in one file.
  const all = [];
  for (let i = 0; i < 50; i++) {
    all.push(writes.write(() => insert.run(`note ${i}`)));
    if (i % 10 === 0) await new Promise((resolve) => setImmediate(resolve));
  }
  await Promise.all(all);
  t.equal(count(), 50);
  t.equal(wal.pending, false, 'nothing left to sync once all are acknowledged');
});

t.test('WalSync fails the writes when the WAL cannot be synced', async (t) => {
  const { queue, insert } = setUp(t);
  // Points at a WAL that does not exist: the sync cannot open it.
  const wal = new WalSync(join(tempDir(), 'missing.db'));
  const writes = new WriteBatcher(queue, wal);
  await t.rejects(
    writes.write(() => insert.run('one')),
    { code: 'ENOENT' },
  );
  t.equal(wal.pending, false);
});
