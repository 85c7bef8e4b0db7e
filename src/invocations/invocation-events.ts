// Who waits on an invocation: long-polls and server-sent event streams. Each state change of a
// record is published here after it is stored; in a cluster it is also relayed to the other
// nodes (invocation-relay.ts), whose waiters get it through deliver().
import type { InvocationRecord } from '../store/records.js';

type Listener = (record: InvocationRecord) => void;

export class InvocationEvents {
  readonly #listeners = new Map<string, Set<Listener>>();
  #relay: ((record: InvocationRecord) => void) | undefined;

  /** Every change published here is also handed to `relay` (to tell the other nodes). */
  relayTo(relay: (record: InvocationRecord) => void): void {
    this.#relay = relay;
  }

  /** Whether anyone here waits on invocation `id`. */
  watched(id: string): boolean {
    return this.#listeners.has(id);
  }

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

  /** A change stored by this node. */
  publish(record: InvocationRecord): void {
    this.deliver(record);
    this.#relay?.(record);
  }

  /** A change, to this node's listeners only (one another node made). */
  deliver(record: InvocationRecord): void {
    const set = this.#listeners.get(record.id);
    if (!set) return;
    for (const listener of [...set]) listener(record);
  }
}
