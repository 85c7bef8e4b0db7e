// Concurrency slots shared by every node of a cluster (design §5.5: a function's concurrency
// limit is cluster-wide): a counted semaphore per key whose holders each lease their slot. A
// holder renews its slots while it runs; a node that dies stops renewing, and its slots are
// free again once their leases run out, so a crash never keeps a function's slots taken. Every
// time is the store's one clock (Redis TIME). Only the Redis backend has it
// (redis-slot-store.ts); a single Wisp counts its slots in memory.

/** One slot held: which semaphore, and the holder's name for it (unique in the cluster). */
export interface HeldSlot {
  key: string;
  holder: string;
}

export interface SlotStore {
  /**
   * Takes slots of `key` for the first of `holders` while fewer than `limit` are held (each
   * leased for `leaseMs`); yields how many it took: `holders[0 .. n)` now hold one each.
   */
  take(key: string, limit: number, holders: readonly string[], leaseMs: number): Promise<number>;
  /** Extends the leases of slots still held; a slot whose lease ran out is not taken again. */
  renew(slots: readonly HeldSlot[], leaseMs: number): Promise<void>;
  release(slots: readonly HeldSlot[]): Promise<void>;
}
