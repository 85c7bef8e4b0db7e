// The leases of the attempts this node runs: renewed well before they run out, so that no other
// node takes an attempt over while it is alive. An attempt whose lease could not be renewed in
// time is told (`onLost`): another node may run it now, and its outcome would be refused.
import type { Clock, Timer } from '../common/clock.js';
import type { InvocationStore, Lease } from '../store/invocation-store.js';

export interface AttemptLeasesOptions {
  store: InvocationStore;
  lease: Lease;
  clock: Clock;
  onLost: (id: string) => void;
  log: (message: string) => void;
}

export class AttemptLeases {
  readonly #o: AttemptLeasesOptions;
  /** Invocation id → the token of its lease, and until when the store last said it holds. */
  readonly #held = new Map<string, { token: string; until: number }>();
  #timer: Timer | undefined;
  #closed = false;

  constructor(options: AttemptLeasesOptions) {
    this.#o = options;
  }

  hold(id: string, token: string, now: number): void {
    this.#held.set(id, { token, until: now + this.#o.lease.ms });
    this.#schedule();
  }

  token(id: string): string | undefined {
    return this.#held.get(id)?.token;
  }

  release(id: string): void {
    this.#held.delete(id);
  }

  close(): void {
    this.#closed = true;
    this.#timer?.cancel();
  }

  #schedule(): void {
    if (this.#timer || this.#closed) return;
    // A third of the lease: two renewals may fail (a slow store) before it runs out.
    this.#timer = this.#o.clock.schedule(() => {
      this.#timer = undefined;
      void this.#renew();
    }, this.#o.lease.ms / 3);
  }

  async #renew(): Promise<void> {
    if (this.#held.size === 0) return;
    const asked = [...this.#held];
    const now = this.#o.clock.now();
    // undefined: the store could not be reached, so a lease is lost only once it has run out.
    let renewed: Set<string> | undefined;
    try {
      renewed = new Set(await this.#o.store.renew(asked.map(([, held]) => held.token), this.#o.lease, now));
    } catch (err) {
      this.#o.log(`cannot renew the leases of ${asked.length} running invocations: ${String(err)}`);
    }
    for (const [id, held] of asked) {
      if (this.#held.get(id) !== held) continue;
      if (renewed?.has(held.token)) {
        held.until = now + this.#o.lease.ms;
      } else if (renewed || this.#o.clock.now() >= held.until) {
        this.#held.delete(id);
        this.#o.onLost(id);
      }
    }
    this.#schedule();
  }
}
