// Live console lines of each function's calls, for whoever follows them (GET
// /v1/functions/{name}/logs?follow=true, `wisp dev`): each stateless call, instance method call
// and instance socket handler that ends hands its lines here, and each follower gets them
// through a bounded queue of its own. A follower that falls too far behind is dropped (told so
// by `dropped`), so a slow reader never slows a call.
// Nothing is built or kept for a function no one follows.
import type { WispError } from '../errors.js';
import type { LogEntry } from '../store/records.js';

/** One call's lines, and its error when it failed. */
export interface CallLog {
  function: string;
  version: number;
  /** Null for what a WebSocket event ran on an instance: it is not an invocation. */
  invocationId: string | null;
  attempt: number;
  /** Set for an instance's method call or socket handler. */
  instance?: string;
  method?: string;
  logs: LogEntry[];
  /** `stack` is the function's own, source-mapped to its files. */
  error: { code: string; message: string; stack?: string } | null;
}

/** A failed call's error as followers see it: code, message, and the user code's own stack. */
export function callError(error: WispError | null): CallLog['error'] {
  if (!error) return null;
  const stack = (error.extensions.error as { stack?: unknown } | undefined)?.stack;
  return { code: error.code, message: error.message, ...(typeof stack === 'string' ? { stack } : {}) };
}

export interface LogFollower {
  /** Told with each call of the function; false when it could not take it (the queue is full). */
  take(call: CallLog): boolean;
  /** Told once when it was too slow and is no longer followed. */
  dropped(): void;
}

/** Those following functions on other nodes of a cluster (invocations/log-relay.ts). */
export interface RemoteFollowers {
  wants(fn: string): boolean;
  send(call: CallLog): void;
}

export class FunctionLogFeed {
  readonly #followers = new Map<string, Set<LogFollower>>();
  #remote: RemoteFollowers | undefined;
  #firstFollower: (fn: string) => void = () => undefined;

  /** In a cluster: calls of a function followed elsewhere are sent there too. */
  relayTo(remote: RemoteFollowers, onFirstFollower: (fn: string) => void): void {
    this.#remote = remote;
    this.#firstFollower = onFirstFollower;
  }

  /** Whether anyone follows `fn`, here or on another node: checked before a call's lines are handed over. */
  wants(fn: string): boolean {
    return this.#followers.has(fn) || this.#remote?.wants(fn) === true;
  }

  /** The functions followed on this node. */
  followed(): string[] {
    return [...this.#followers.keys()];
  }

  /** A call that ended on this node: to its followers here and elsewhere. */
  publish(call: CallLog): void {
    if (this.#remote?.wants(call.function)) this.#remote.send(call);
    this.deliver(call);
  }

  /** A call's lines to the followers on this node only (one that ended elsewhere, relayed). */
  deliver(call: CallLog): void {
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
    if (!followers) {
      this.#followers.set(fn, (followers = new Set()));
      this.#firstFollower(fn);
    }
    followers.add(follower);
    return () => this.#remove(fn, follower);
  }

  #remove(fn: string, follower: LogFollower): void {
    const followers = this.#followers.get(fn);
    if (!followers?.delete(follower)) return;
    if (followers.size === 0) this.#followers.delete(fn);
  }
}
