// Cluster membership, as the store keeps it (design §5.1): each node's record and lease, with
// every time taken from the store's one clock (Redis TIME), so that no two nodes' clocks are
// ever compared. Only the Redis backend has one (redis-membership-store.ts); a single Wisp on
// the embedded store is not a cluster.
import type { Resources } from '../scheduler/node-resources.js';

export type NodeState = 'active' | 'dead' | 'left';

export interface NodeRecord {
  id: string;
  /** Unique in the cluster: a node that rejoins, or starts again, is a new incarnation. */
  incarnation: number;
  /** The URL its peers reach it at; null until it listens. */
  address: string | null;
  state: NodeState;
  /** The store's time (ms) its lease runs to. */
  leaseUntil: number;
  /** The store's time (ms) it last renewed. */
  renewedAt: number;
  capacity: Resources;
  allocated: Resources;
  /** Instances running on it. */
  instances: number;
}

/** What a node says about itself each time it renews. */
export interface NodeReport {
  address: string | null;
  capacity: Resources;
  allocated: Resources;
  instances: number;
}

export type RenewOutcome = { ok: true; now: number } | { ok: false; why: 'replaced' | 'dead' | 'expired' | 'unknown' };

export interface MembershipStore {
  /** Registers `id` as a new incarnation with a lease of `leaseMs`; `previous` is the record it replaces. */
  register(id: string, report: NodeReport, leaseMs: number): Promise<{ incarnation: number; now: number; previous: NodeRecord | null }>;
  /**
   * Extends the lease of this incarnation, unless it ran out (a reaper may be taking the node's
   * work), the node was declared dead, or a newer incarnation registered the same id.
   */
  renew(id: string, incarnation: number, report: NodeReport, leaseMs: number): Promise<RenewOutcome>;
  /** Marks the incarnation as gone on purpose: its work may be taken at once. */
  leave(id: string, incarnation: number): Promise<void>;
  /**
   * For the one reaper of the moment (`reaper` holds the reaper key for `lockMs`; null when
   * another node holds it): marks dead every active node whose lease ended more than `marginMs`
   * ago, and returns those it marked.
   */
  reap(reaper: string, lockMs: number, marginMs: number): Promise<NodeRecord[] | null>;
  /** Every node the cluster has known, with the store's time now. */
  nodes(): Promise<{ now: number; nodes: NodeRecord[] }>;
  /** The cluster's shared secret `name` (`internal`, `callbacks`): `candidate` if none was set yet, else the one set first. */
  sharedSecret(name: 'internal' | 'callbacks', candidate: string): Promise<string>;
}
