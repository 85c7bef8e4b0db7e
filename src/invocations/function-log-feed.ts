// Live console lines of each function's calls, for whoever follows them (GET
// /v1/functions/{name}/logs?follow=true, `wisp dev`): each stateless call that ends hands its
// lines here, and each follower gets them through a bounded queue of its own. A follower that
// falls too far behind is dropped (told so by `dropped`), so a slow reader never slows a call.
// Nothing is built or kept for a function no one follows.
import type { LogEntry } from '../store/records.js';

/** One call's lines, and its error when it failed. */
export interface CallLog {
  function: string;
  version: number;
  invocationId: string;
  attempt: number;
  logs: LogEntry[];
  /** `stack` is the function's own, source-mapped to its files. */
  error: { code: string; message: string; stack?: string } | null;
}

export interface LogFollower {
  /** Told with each call of the function; false when it could not take it (the queue is full). */
  take(call: CallLog): boolean;
  /** Told once when it was too slow and is no longer followed. */
  dropped(): void;
}

export class FunctionLogFeed {
  readonly #followers = new Map<string, Set<LogFollower>>();

  /** Whether anyone follows `fn`: checked before a call's lines are handed over. */
  wants(fn: string): boolean {
    return this.#followers.has(fn);
  }

  publish(call: CallLog): void {
    const followers = this.#followers.get(call.function);
    if (!followers) return;
    for (const follower of followers) {
      if (follower.take(call)) continue;
      this.#remove(call.function, follower);
      follower.dropped();
    }
  }

  /** Follows `fn` until the returned function is called. */
  follow(fn: string, follower: LogFollower): () => void {
    let followers = this.#followers.get(fn);
    if (!followers) this.#followers.set(fn, (followers = new Set()));
    followers.add(follower);
    return () => this.#remove(fn, follower);
  }

  #remove(fn: string, follower: LogFollower): void {
    const followers = this.#followers.get(fn);
    if (!followers?.delete(follower)) return;
    if (followers.size === 0) this.#followers.delete(fn);
  }
}
