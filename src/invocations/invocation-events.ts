// Who waits on an invocation: long-polls and server-sent event streams. Each state change of a
// record is published here after it is stored.
import type { InvocationRecord } from '../store/records.js';

type Listener = (record: InvocationRecord) => void;

export class InvocationEvents {
  readonly #listeners = new Map<string, Set<Listener>>();

  /** Calls `listener` on every change of invocation `id` until the returned function is called. */
  subscribe(id: string, listener: Listener): () => void {
    let set = this.#listeners.get(id);
    if (!set) {
      set = new Set();
      this.#listeners.set(id, set);
    }
    set.add(listener);
    return () => {
      set.delete(listener);
      if (set.size === 0 && this.#listeners.get(id) === set) this.#listeners.delete(id);
    };
  }

  publish(record: InvocationRecord): void {
    const set = this.#listeners.get(record.id);
    if (!set) return;
    for (const listener of [...set]) listener(record);
  }
}
