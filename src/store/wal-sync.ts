// Makes commits of a synchronous=NORMAL connection durable without blocking the event loop.
// With synchronous=FULL, SQLite fsyncs the WAL inside COMMIT, on the gateway's one thread: with
// the queue busy that was over half its time (0.55 ms a commit, ~1,000 commits a second while a
// backlog drains). A NORMAL connection's COMMIT only writes the WAL; this syncs the WAL file on
// libuv's thread pool instead, and whoever committed waits for it before acknowledging. Commits
// made while a sync runs wait for the next one, which covers them all: the slower the disk, the
// more each sync carries (group commit), and the thread runs requests meanwhile.
import { closeSync, fdatasync, fsyncSync, openSync } from 'node:fs';
import { dirname } from 'node:path';
import type { CommitSync } from './write-batcher.js';

interface Waiter {
  resolve: () => void;
  reject: (err: unknown) => void;
}

export class WalSync implements CommitSync {
  readonly #walFile: string;
  #fd: number | undefined;
  #running = false;
  /** Callers whose commits the running sync may have started too early to cover. */
  #waiting: Waiter[] = [];

  /** `databaseFile` is the SQLite file; its WAL is the file beside it with `-wal` appended. */
  constructor(databaseFile: string) {
    this.#walFile = `${databaseFile}-wal`;
  }

  /** Resolves once everything committed before the call is on disk. */
  sync(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.#waiting.push({ resolve, reject });
      if (!this.#running) this.#start();
    });
  }

  /** Whether some commit may not be on disk yet: a reader of committed rows waits for sync() first. */
  get pending(): boolean {
    return this.#running || this.#waiting.length > 0;
  }

  close(): void {
    if (this.#fd !== undefined) closeSync(this.#fd);
    this.#fd = undefined;
  }

  #start(): void {
    const group = this.#waiting;
    this.#waiting = [];
    this.#running = true;
    const done = (err: unknown) => {
      this.#running = false;
      for (const waiter of group) {
        if (err) waiter.reject(err);
        else waiter.resolve();
      }
      if (this.#waiting.length > 0) this.#start();
    };
    let fd: number;
    try {
      fd = this.#open();
    } catch (err) {
      done(err);
      return;
    }
    fdatasync(fd, (err) => done(err ?? undefined));
  }

  /**
   * The WAL stays one file (one inode) while a connection to the database is open: SQLite
   * rewrites it from the start after a checkpoint, and deletes it only when the last
   * connection closes. So one descriptor, opened after the first commit created the file, serves.
   */
  #open(): number {
    if (this.#fd === undefined) {
      this.#fd = openSync(this.#walFile, 'r');
      // The file's name in its directory must survive a power loss too, once.
      const dir = openSync(dirname(this.#walFile), 'r');
      try {
        fsyncSync(dir);
      } finally {
        closeSync(dir);
      }
    }
    return this.#fd;
  }
}
