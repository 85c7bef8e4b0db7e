// Synchronous and nested invocations are recorded in memory only: writing each to disk would put a
// durable write on the hot path. The cache is bounded by an estimate of the bytes it holds; the
// oldest records go first. A parent's children are indexed so the call tree can be read back.
import { LRUCache } from 'lru-cache';
import type { InvocationRecord, LogEntry } from '../store/records.js';
import { JsonText } from './json-text.js';

interface Entry {
  record: InvocationRecord;
  logs: LogEntry[];
}

/** A record's size in the cache, roughly: its result text, its log text and a fixed overhead. */
function sizeOf(entry: Entry): number {
  const result = entry.record.result instanceof JsonText ? entry.record.result.text.length : 0;
  let logs = 0;
  for (const line of entry.logs) logs += line.message.length + 64;
  return 512 + result + logs;
}

export class SyncHistory {
  readonly #entries: LRUCache<string, Entry>;
  readonly #children = new Map<string, string[]>();

  constructor(maxBytes: number) {
    this.#entries = new LRUCache<string, Entry>({
      maxSize: maxBytes,
      sizeCalculation: sizeOf,
      dispose: (entry) => this.#forgetChild(entry.record),
    });
  }

  add(record: InvocationRecord, logs: LogEntry[]): void {
    this.#entries.set(record.id, { record, logs });
    // An entry too large for the cache is not stored at all; then it has no place in a tree either.
    if (record.parentId !== null && this.#entries.has(record.id)) {
      const siblings = this.#children.get(record.parentId);
      if (siblings) siblings.push(record.id);
      else this.#children.set(record.parentId, [record.id]);
    }
  }

  get(id: string): InvocationRecord | undefined {
    return this.#entries.get(id)?.record;
  }

  logs(id: string): LogEntry[] | undefined {
    return this.#entries.get(id)?.logs;
  }

  children(parentId: string): InvocationRecord[] {
    const ids = this.#children.get(parentId) ?? [];
    return ids.map((id) => this.#entries.peek(id)?.record).filter((record) => record !== undefined);
  }

  #forgetChild(record: InvocationRecord): void {
    if (record.parentId === null) return;
    const siblings = this.#children.get(record.parentId);
    if (!siblings) return;
    const left = siblings.filter((id) => id !== record.id);
    if (left.length === 0) this.#children.delete(record.parentId);
    else this.#children.set(record.parentId, left);
  }
}
