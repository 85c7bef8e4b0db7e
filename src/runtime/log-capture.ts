// console.* inside a pool worker, captured per invocation. Two invocations may run on one worker
// at once, so each runs inside an AsyncLocalStorage scope that holds its own buffer; output
// outside any scope (Wisp's own) goes to the real console. Each buffer is bounded: past its byte
// budget lines are counted, not kept, and the last entry says how many were dropped.
import { AsyncLocalStorage } from 'node:async_hooks';
import { format } from 'node:util';
import type { LogEntry } from '../store/records.js';

type Level = LogEntry['level'];

const LEVELS: readonly Level[] = ['debug', 'info', 'log', 'warn', 'error', 'trace'];

export class LogBuffer {
  readonly entries: LogEntry[] = [];
  readonly #attempt: number;
  #bytesLeft: number;
  #dropped = 0;

  constructor(attempt: number, maxBytes: number) {
    this.#attempt = attempt;
    this.#bytesLeft = maxBytes;
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
      if (buffer) buffer.add(level, format(...args));
      else original(...args);
    };
  }
}

/** Runs `fn` with console output going to `buffer`, including output from what it awaits. */
export function withLogs<T>(buffer: LogBuffer, fn: () => T): T {
  return scope.run(buffer, fn);
}
