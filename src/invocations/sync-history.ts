// Synchronous and nested invocations are recorded in memory only: writing each to disk would put a
// durable write on the hot path. The cache holds flat call summaries, bounded by an estimate of
// their bytes; the oldest go first. A parent's children are indexed so the call tree can be read.
import { LRUCache } from 'lru-cache';
import type { InvocationRecord, LogEntry } from '../store/records.js';
import { toRecord, type CallSummary } from './call-summary.js';

/**
 * A summary's size in the cache: everything it holds is charged (its input, result, error and
 * logs) plus a fixed overhead, so no mix of calls can hold more than the budget. The input of a
 * nested call comes measured by the worker that sent it; the rest is text already.
 */
function sizeOf(call: CallSummary): number {
  let size = 512 + (call.resultJson?.length ?? 0) + call.inputBytes;
  if (call.error) size += call.error.message.length + extensionSize(call.error.extensions);
  for (const line of call.logs) size += line.message.length + 64;
  return size;
}

/** What a problem's extensions hold: the user error's name, message and stack are text. */
function extensionSize(extensions: Readonly<Record<string, unknown>>): number {
  let size = 0;
  for (const value of Object.values(extensions)) {
    if (typeof value === 'string') size += value.length;
    else if (typeof value === 'object' && value !== null) {
      for (const inner of Object.values(value)) size += typeof inner === 'string' ? inner.length : 16;
    } else size += 16;
  }
  return size;
}

export class SyncHistory {
  readonly #calls: LRUCache<string, CallSummary>;
  readonly #children = new Map<string, string[]>();

  constructor(maxBytes: number) {
    this.#calls = new LRUCache<string, CallSummary>({
      maxSize: maxBytes,
      sizeCalculation: sizeOf,
      dispose: (call) => this.#forgetChild(call),
    });
  }

  add(call: CallSummary): void {
    this.#calls.set(call.id, call);
    // A call too large for the cache is not stored at all; then it has no place in a tree either.
    if (call.parentId !== null && this.#calls.has(call.id)) {
      const siblings = this.#children.get(call.parentId);
      if (siblings) siblings.push(call.id);
      else this.#children.set(call.parentId, [call.id]);
    }
  }

  /** What the kept calls are charged, in bytes: never more than the budget. */
  get bytesHeld(): number {
    return this.#calls.calculatedSize;
  }

  get(id: string): InvocationRecord | undefined {
    const call = this.#calls.get(id);
    return call && toRecord(call);
  }

  logs(id: string): LogEntry[] | undefined {
    return this.#calls.get(id)?.logs;
  }

  children(parentId: string): InvocationRecord[] {
    const ids = this.#children.get(parentId) ?? [];
    return ids.flatMap((id) => {
      const call = this.#calls.peek(id);
      return call ? [toRecord(call)] : [];
    });
  }

  #forgetChild(call: CallSummary): void {
    if (call.parentId === null) return;
    const siblings = this.#children.get(call.parentId);
    if (!siblings) return;
    const left = siblings.filter((id) => id !== call.id);
    if (left.length === 0) this.#children.delete(call.parentId);
    else this.#children.set(call.parentId, left);
  }
}
