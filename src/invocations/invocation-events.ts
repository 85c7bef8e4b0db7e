// Who waits on an invocation (long-polls and server-sent event streams) or on a batch's members.
// Each state change of a record is published here after it is stored; in a cluster it is also relayed to the other
// nodes (invocation-relay.ts), whose waiters get it through deliver().
import type { InvocationRecord } from '../store/records.js';

type Listener = (record: InvocationRecord) => void;

export class InvocationEvents {
  readonly #listeners = new Map<string, Set<Listener>>();
  /** Listeners on every member of a batch, by batch id. */
  readonly #batchListeners = new Map<string, Set<Listener>>();
  readonly #observers: Listener[] = [];
  #relay: ((record: InvocationRecord) => void) | undefined;

  /** Every change published here is also handed to `relay` (to tell the other nodes). */
  relayTo(relay: (record: InvocationRecord) => void): void {
    this.#relay = relay;
  }

  /** Whether anyone here waits on invocation `id`. */
  watched(id: string): boolean {
    return this.#listeners.has(id);
  }

  /** Whether anyone here waits on the members of batch `id`. */
  watchedBatch(id: string): boolean {
    return this.#batchListeners.has(id);
  }

  /** Calls `listener` on every change of invocation `id` until the returned function is called. */
  subscribe(id: string, listener: Listener): () => void {
    return listen(this.#listeners, id, listener);
  }

  /** Calls `listener` on every change of a member of batch `id` until the returned function is called. */
  subscribeBatch(id: string, listener: Listener): () => void {
    return listen(this.#batchListeners, id, listener);
  }

  /** Calls `observer` with every change this node stores (not those relayed from others). */
  observe(observer: Listener): void {
    this.#observers.push(observer);
  }

  /** A change stored by this node. */
  publish(record: InvocationRecord): void {
    for (const observer of this.#observers) observer(record);
    this.deliver(record);
    this.#relay?.(record);
  }

  /** A change, to this node's listeners only (one another node made). */
  deliver(record: InvocationRecord): void {
    tell(this.#listeners.get(record.id), record);
    if (record.batchId !== undefined) tell(this.#batchListeners.get(record.batchId), record);
  }
}

function listen(listeners: Map<string, Set<Listener>>, key: string, listener: Listener): () => void {
  let set = listeners.get(key);
  if (!set) {
    set = new Set();
    listeners.set(key, set);
  }
  set.add(listener);
  return () => {
    set.delete(listener);
    if (set.size === 0 && listeners.get(key) === set) listeners.delete(key);
  };
}

function tell(set: Set<Listener> | undefined, record: InvocationRecord): void {
  if (!set) return;
  for (const listener of [...set]) listener(record);
}
