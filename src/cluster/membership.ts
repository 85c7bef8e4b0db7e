// This node's membership of the cluster (design §5.1): it registers as a new incarnation,
// renews its lease every heartbeat, and fences itself when it cannot: from the moment its lease
// may have run out it must not answer for its instances or take queued work, because a reaper
// may already be handing them to another node. It then rejoins as a new incarnation.
//
// Why a fenced node cannot overlap with its successor: the lease is counted here from the
// moment the renewal was *sent* (on this process's monotonic clock), and in the store from the
// moment it was *applied* (on Redis's clock), which is later; a reaper takes the node's work
// only `marginMs` after the store's lease end. So whenever holdsLease() is true here, no other
// node can have taken over yet, even if this process was paused (SIGSTOP, a long GC) in between.
import { performance } from 'node:perf_hooks';
import type { MembershipStore, NodeRecord, NodeReport } from '../store/membership-store.js';

export interface MembershipTiming {
  /** How often the lease is renewed. */
  heartbeatMs: number;
  /** How long a renewal holds. */
  leaseMs: number;
  /** How long after a lease ends a reaper waits before declaring the node dead. */
  deadMarginMs: number;
}

export interface MembershipOptions extends MembershipTiming {
  store: MembershipStore;
  nodeId: string;
  /** What the node says about itself (resources, instances, address) at each renewal. */
  report: () => NodeReport;
  log: (message: string) => void;
}

export type MembershipState = 'active' | 'fenced' | 'closed';

export interface MembershipListener {
  /** The lease is lost: stop answering for instances now (they are about to be someone else's). */
  fenced?(why: string): void;
  /** Registered again, as a new incarnation; `waitMs`: how long until an earlier one is surely gone. */
  joined?(incarnation: number, waitMs: number): void;
  /** This node is the reaper of the moment, and these nodes were just declared dead. */
  reaped?(dead: NodeRecord[]): void;
  /** Every heartbeat of the reaper of the moment (to sweep for work nobody holds). */
  reaping?(): void;
  /** Every renewal of this node's lease (to check that it runs all it owns). */
  renewed?(): void;
}

export class Membership {
  readonly #o: MembershipOptions;
  readonly #listeners: MembershipListener[] = [];
  #state: MembershipState = 'fenced';
  #incarnation = 0;
  /** performance.now() until which the lease surely holds. */
  #validUntil = 0;
  #heartbeat: NodeJS.Timeout | undefined;
  #fenceTimer: NodeJS.Timeout | undefined;
  #beating = false;
  #replacedLive: { incarnation: number } | null = null;
  /** Set when another process took this node id: rejoining would only fence it in turn. */
  #replaced = false;

  constructor(options: MembershipOptions) {
    this.#o = options;
  }

  get nodeId(): string {
    return this.#o.nodeId;
  }

  get incarnation(): number {
    return this.#incarnation;
  }

  get state(): MembershipState {
    return this.#state;
  }

  /** `node/incarnation`: who holds a claim made by this incarnation. */
  get owner(): string {
    return `${this.#o.nodeId}/${this.#incarnation}`;
  }

  listen(listener: MembershipListener): void {
    this.#listeners.push(listener);
  }

  /**
   * Registers this node (the first time: Wisp does not start without it) and starts the
   * heartbeat. Resolves with how long to wait before taking work an earlier incarnation of this
   * node id may still hold (0 when none has a live lease).
   */
  async join(): Promise<number> {
    const waitMs = await this.#register();
    this.#heartbeat = setInterval(() => void this.#beat(), this.#o.heartbeatMs);
    this.#heartbeat.unref();
    return waitMs;
  }

  /** The record this node's registration replaced, if it had a live lease (see #register). */
  get replacedLive(): { incarnation: number } | null {
    return this.#replacedLive;
  }

  /** Whether this node may answer for its instances right now (see the top of this file). */
  holdsLease(): boolean {
    return this.#state === 'active' && performance.now() < this.#validUntil;
  }

  /** Leaves the cluster on purpose: peers may take this node's work at once. */
  async close(): Promise<void> {
    const wasActive = this.#state === 'active';
    this.#state = 'closed';
    clearInterval(this.#heartbeat);
    clearTimeout(this.#fenceTimer);
    if (!wasActive) return;
    // A store that does not answer must not hold the shutdown: peers then see the lease end.
    let timer: NodeJS.Timeout | undefined;
    const gaveUp = new Promise<void>((resolve) => (timer = setTimeout(resolve, this.#o.leaseMs)));
    const left = this.#o.store.leave(this.#o.nodeId, this.#incarnation).catch((err: unknown) => this.#o.log(`cannot tell the cluster this node leaves: ${String(err)}`));
    await Promise.race([left, gaveUp]);
    clearTimeout(timer);
  }

  async #register(): Promise<number> {
    const sentAt = performance.now();
    const { incarnation, now, previous } = await this.#o.store.register(this.#o.nodeId, this.#o.report(), this.#o.leaseMs);
    this.#incarnation = incarnation;
    this.#state = 'active';
    this.#leaseFrom(sentAt);
    // An earlier incarnation of this id whose lease still runs (a crash a moment ago, or a second
    // process started with the same WISP_NODE_ID) may still answer until its lease and margin end.
    const live = previous !== null && previous.state === 'active' && previous.leaseUntil + this.#o.deadMarginMs > now;
    this.#replacedLive = live ? { incarnation: previous.incarnation } : null;
    return live ? previous.leaseUntil + this.#o.deadMarginMs - now : 0;
  }

  #leaseFrom(sentAt: number): void {
    this.#validUntil = sentAt + this.#o.leaseMs;
    this.#armFence();
  }

  /** Fences at the end of the lease unless a renewal moved it; a timer may fire a little early. */
  #armFence(): void {
    clearTimeout(this.#fenceTimer);
    this.#fenceTimer = setTimeout(() => {
      if (this.#state !== 'active') return;
      if (this.holdsLease()) this.#armFence();
      else this.#fence('the lease ran out before it could be renewed');
    }, Math.max(1, Math.ceil(this.#validUntil - performance.now())));
    this.#fenceTimer.unref();
  }

  async #beat(): Promise<void> {
    if (this.#beating || this.#state === 'closed') return;
    this.#beating = true;
    try {
      if (this.#state === 'fenced') {
        if (!this.#replaced) await this.#rejoin();
      }
      else await this.#renew();
      if (this.#state === 'active') await this.#reap();
    } catch {
      // The store cannot be reached: the fence timer stops this node when its lease ends, and
      // the next heartbeat tries again.
    } finally {
      this.#beating = false;
    }
  }

  async #renew(): Promise<void> {
    const sentAt = performance.now();
    const incarnation = this.#incarnation;
    const outcome = await this.#o.store.renew(this.#o.nodeId, incarnation, this.#o.report(), this.#o.leaseMs);
    if (this.#state !== 'active' || this.#incarnation !== incarnation) return;
    if (outcome.ok) {
      // The store applied it after sentAt, before its own lease end: no reaper can have acted.
      this.#leaseFrom(sentAt);
      for (const listener of this.#listeners) listener.renewed?.();
      return;
    }
    const why = {
      expired: 'the lease ran out before the renewal reached the store',
      dead: 'the cluster declared this node dead',
      replaced: `another process registered node id "${this.#o.nodeId}" (is WISP_NODE_ID set to the same value on two nodes?); this one stays fenced`,
      unknown: 'the store has no record of this node',
    }[outcome.why];
    this.#replaced = outcome.why === 'replaced';
    this.#fence(why);
  }

  async #rejoin(): Promise<void> {
    const waitMs = await this.#register();
    // The lease runs from when the registration was sent. An answer that came late (the store
    // was paused, and answered a backlog) may leave too little of it for the next renewal to
    // land: taking work back now would only be cut off again. The next heartbeat registers anew.
    if (this.#validUntil - performance.now() <= this.#o.heartbeatMs) {
      this.#state = 'fenced';
      this.#validUntil = 0;
      clearTimeout(this.#fenceTimer);
      this.#o.log(`node ${this.#o.nodeId}: the store answered its registration as incarnation ${this.#incarnation} too late to keep the lease; it registers again`);
      return;
    }
    this.#o.log(`node ${this.#o.nodeId} rejoined the cluster as incarnation ${this.#incarnation}`);
    for (const listener of this.#listeners) listener.joined?.(this.#incarnation, waitMs);
  }

  async #reap(): Promise<void> {
    const dead = await this.#o.store.reap(this.owner, this.#o.heartbeatMs * 3, this.#o.deadMarginMs);
    if (dead === null) return;
    for (const node of dead) this.#o.log(`node ${node.id} (incarnation ${node.incarnation}) missed its lease and is declared dead`);
    for (const listener of this.#listeners) {
      if (dead.length > 0) listener.reaped?.(dead);
      listener.reaping?.();
    }
  }

  #fence(why: string): void {
    if (this.#state !== 'active') return;
    this.#state = 'fenced';
    this.#validUntil = 0;
    clearTimeout(this.#fenceTimer);
    this.#o.log(`node ${this.#o.nodeId} (incarnation ${this.#incarnation}) fenced itself: ${why}; it stops answering for its instances and taking queued work, and rejoins as a new incarnation`);
    for (const listener of this.#listeners) listener.fenced?.(why);
  }
}
