// A function's concurrency slots counted across the cluster: each call holds one slot in the
// store (store/slot-store.ts) as well as one on this node. The node's own count comes first: a
// node already at the limit refuses without asking the store. Held slots are renewed together
// every third of a lease. A release is sent at once, without waiting for the answer: it is on
// its way to the store before the call's reply is on its way to the client, so a client that
// calls again (through any node) finds the slot free.
//
// When the store cannot be reached, a call runs under this node's count alone (logged once per
// outage): the limit then holds per node until the store is back. A concurrency limit guards a
// function's downstream; refusing every call while Redis blinks would be a worse failure.
import type { Clock, Timer } from '../common/clock.js';
import { LocalSlots, type ConcurrencySlots, type Release } from '../invocations/concurrency-slots.js';
import type { HeldSlot, SlotStore } from '../store/slot-store.js';

export interface ClusterSlotsOptions {
  store: SlotStore;
  /** Unique to this incarnation of this node: every holder name starts with it. */
  owner: string;
  /** How long a slot stays held without a renewal (a dead node's slots free themselves then). */
  leaseMs: number;
  clock: Clock;
  log: (message: string) => void;
}

export class ClusterSlots implements ConcurrencySlots {
  readonly #o: ClusterSlotsOptions;
  readonly #local = new LocalSlots();
  /** Slots held in the store, by holder name. */
  readonly #held = new Map<string, HeldSlot>();
  #renewTimer: Timer | undefined;
  #serial = 0;
  #unreachable = false;

  constructor(options: ClusterSlotsOptions) {
    this.#o = options;
  }

  take(key: string, limit: number, n: number): Release[] | Promise<Release[]> {
    const local = this.#local.take(key, limit, n);
    if (local.length === 0) return local;
    return this.#takeShared(key, limit, local);
  }

  async #takeShared(key: string, limit: number, local: Release[]): Promise<Release[]> {
    const holders = local.map(() => `${this.#o.owner}/${++this.#serial}`);
    let taken: number;
    try {
      taken = await this.#o.store.take(key, limit, holders, this.#o.leaseMs);
      this.#reachable();
    } catch (err) {
      this.#lost(err);
      return local;
    }
    for (const release of local.slice(taken)) release();
    return local.slice(0, taken).map((releaseLocal, i) => this.#hold({ key, holder: holders[i]! }, releaseLocal));
  }

  #hold(slot: HeldSlot, releaseLocal: Release): Release {
    this.#held.set(slot.holder, slot);
    this.#scheduleRenewal();
    let released = false;
    return () => {
      if (released) return;
      released = true;
      releaseLocal();
      this.#held.delete(slot.holder);
      // Not given back: the slot's lease runs out by itself, a little later.
      this.#o.store.release([slot]).catch((err: unknown) => this.#lost(err));
    };
  }

  count(key: string): number {
    return this.#local.count(key);
  }

  get total(): number {
    return this.#local.total;
  }

  /** Stops renewing; what is still held frees itself when its lease runs out. */
  close(): void {
    this.#renewTimer?.cancel();
    this.#renewTimer = undefined;
  }

  #scheduleRenewal(): void {
    if (this.#renewTimer) return;
    this.#renewTimer = this.#o.clock.schedule(() => {
      this.#renewTimer = undefined;
      if (this.#held.size === 0) return;
      this.#o.store.renew([...this.#held.values()], this.#o.leaseMs).then(
        () => this.#reachable(),
        (err: unknown) => this.#lost(err),
      );
      this.#scheduleRenewal();
    }, this.#o.leaseMs / 3);
  }

  #lost(err: unknown): void {
    if (this.#unreachable) return;
    this.#unreachable = true;
    this.#o.log(`concurrency limits hold per node until the store answers again: ${String(err)}`);
  }

  #reachable(): void {
    this.#unreachable = false;
  }
}
