// console.* inside a pool worker, captured per invocation. Two invocations may run on one worker
// at once, so each runs inside an AsyncLocalStorage scope that holds its own buffer; output
// outside any scope (Wisp's own) goes to the real console. Each buffer is bounded: past its byte
// budget lines are counted, not kept, and the last entry says how many were dropped. Objects are
// formatted by util.inspect, whose default depth and string and array lengths bound them.
import { AsyncLocalStorage } from 'node:async_hooks';
import { format } from 'node:util';
import { jsonSizeAtLeast } from './json-size.js';
import type { Culprit } from './protocol.js';
import type { LogEntry } from '../store/records.js';

type Level = LogEntry['level'];

/** The call a scope belongs to. Timers and promises made in it keep it (AsyncLocalStorage). */
export interface TaskOwner extends Culprit {
  seq: number;
}

const LEVELS: readonly Level[] = ['debug', 'info', 'log', 'warn', 'error', 'trace'];

export class LogBuffer {
  readonly entries: LogEntry[] = [];
  readonly #attempt: number;
  /** Whose code runs in this scope: what a fault raised from it (a late throw) is blamed on. */
  readonly owner: TaskOwner | undefined;
  #bytesLeft: number;
  #dropped = 0;

  constructor(attempt: number, maxBytes: number, owner?: TaskOwner) {
    this.#attempt = attempt;
    this.#bytesLeft = maxBytes;
    this.owner = owner;
  }

  /** Whether a line made of these arguments could still fit; strings are measured, not copied. */
  fits(args: readonly unknown[]): boolean {
    let length = 0;
    for (const arg of args) if (typeof arg === 'string') length += arg.length;
    // '%j' is the one format that does not go through util.inspect's bounds: it is JSON.stringify.
    if (typeof args[0] === 'string' && args[0].includes('%j')) {
      for (const arg of args.slice(1)) length += jsonSizeAtLeast(arg, this.#bytesLeft);
    }
    if (length <= this.#bytesLeft) return true;
    this.#dropped++;
    return false;
  }

  add(level: Level, message: string): void {
    if (message.length > this.#bytesLeft) {
      this.#dropped++;
      return;
    }
    this.#bytesLeft -= message.length;
    this.entries.push({ time: Date.now(), level, message, attempt: this.#attempt });
  }

  /** The entries, with a last one saying how many lines did not fit. */
  drain(): LogEntry[] {
    if (this.#dropped > 0) {
      const message = `[wisp] ${this.#dropped} more line(s) dropped: the log of one invocation is limited`;
      this.entries.push({ time: Date.now(), level: 'warn', message, attempt: this.#attempt });
      this.#dropped = 0;
    }
    return this.entries;
  }
}

const scope = new AsyncLocalStorage<LogBuffer>();

/** Replaces this thread's console methods with ones that write to the running invocation's buffer. */
export function captureConsole(): void {
  for (const level of LEVELS) {
    const original = console[level].bind(console);
    console[level] = (...args: unknown[]) => {
      const buffer = scope.getStore();
      // A line that cannot fit is counted before format() would copy a huge argument.
      if (buffer) {
        if (buffer.fits(args)) buffer.add(level, format(...args));
      }
      else original(...args);
    };
  }
}

/** The call whose scope the running code belongs to, if any. */
export function currentOwner(): TaskOwner | undefined {
  return scope.getStore()?.owner;
}

/** Runs `fn` with console output going to `buffer`, including output from what it awaits. */
export function withLogs<T>(buffer: LogBuffer, fn: () => T): T {
  return scope.run(buffer, fn);
}
