// Where a call takes its function's concurrency slot. A single Wisp counts them in memory
// (LocalSlots); the nodes of a cluster share one count in the store (cluster/cluster-slots.ts),
// because a function's limit is the cluster's, not each node's (design §5.5).
import { ConcurrencyLimiter } from './concurrency-limiter.js';

/** Gives a slot back; calling it again does nothing. */
export type Release = () => void;

export interface ConcurrencySlots {
  /**
   * Up to `n` slots of `key` while fewer than `limit` are held: as many releases as it took,
   * none when `key` is full. Synchronous when no other node is asked.
   */
  take(key: string, limit: number, n: number): Release[] | Promise<Release[]>;
  /** How many slots of `key` are held on this node. */
  count(key: string): number;
  /** How many slots are held on this node, of every key. */
  readonly total: number;
}

export class LocalSlots implements ConcurrencySlots {
  readonly #limiter = new ConcurrencyLimiter();

  take(key: string, limit: number, n: number): Release[] {
    const taken: Release[] = [];
    while (taken.length < n) {
      const release = this.#limiter.acquire(key, limit);
      if (!release) break;
      taken.push(release);
    }
    return taken;
  }

  count(key: string): number {
    return this.#limiter.count(key);
  }

  get total(): number {
    return this.#limiter.total;
  }
}
