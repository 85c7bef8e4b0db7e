// What the rest of Wisp knows of the cluster: this node's id, whether it may answer for its
// instances now, and the view GET /v1/cluster shows. A Wisp on the embedded store is a cluster
// of one that always holds its lease; with a Redis store it is a member (membership.ts).
import { randomBytes } from 'node:crypto';
import type { Resources } from '../scheduler/node-resources.js';
import type { MembershipStore, NodeReport, NodeState } from '../store/membership-store.js';
import { recordIncarnation, surelyGone } from './local-incarnation.js';
import { Membership, type MembershipListener, type MembershipTiming } from './membership.js';

export interface NodeView {
  id: string;
  address: string | null;
  state: NodeState;
  incarnation: number;
  /** How long ago the node last renewed its lease (by the store's clock). */
  leaseAgeMs: number;
  capacity: Resources;
  allocated: Resources;
  instances: number;
}

export interface ClusterView {
  /** `single`: one Wisp on the embedded store; `cluster`: nodes over Redis. */
  mode: 'single' | 'cluster';
  /** The node that answered. */
  self: string;
  nodes: NodeView[];
}

export interface ClusterNode {
  readonly nodeId: string;
  readonly clustered: boolean;
  /** `node/incarnation` of this node now. */
  readonly owner: string;
  /** Whether this node may answer for its instances and take queued work right now. */
  holdsLease(): boolean;
  /** Registers (cluster mode); resolves with how long an earlier incarnation may still hold work. */
  join(): Promise<number>;
  /** The URL peers reach this node at, once it listens. */
  advertise(url: string): void;
  readonly address: string | null;
  listen(listener: MembershipListener): void;
  view(): Promise<ClusterView>;
  /** The secret internal routes are signed with (known once joined). */
  secret(): string;
  close(): Promise<void>;
}

/** One Wisp alone: always the owner of everything it holds. */
export class SingleNode implements ClusterNode {
  readonly nodeId: string;
  readonly clustered = false;
  readonly owner: string;
  address: string | null = null;
  readonly #report: () => NodeReport;

  constructor(nodeId: string, report: () => NodeReport) {
    this.nodeId = nodeId;
    this.owner = `${nodeId}/${randomBytes(6).toString('hex')}`;
    this.#report = report;
  }

  holdsLease(): boolean {
    return true;
  }

  /** Nobody to talk to: a secret no one knows, so that no internal request is ever accepted. */
  readonly #secret = randomBytes(32).toString('base64url');

  secret(): string {
    return this.#secret;
  }

  async join(): Promise<number> {
    return 0;
  }

  advertise(url: string): void {
    this.address = url;
  }

  listen(): void {
    // Nothing ever happens to a cluster of one.
  }

  async view(): Promise<ClusterView> {
    const { capacity, allocated, instances } = this.#report();
    return { mode: 'single', self: this.nodeId, nodes: [{ id: this.nodeId, address: this.address, state: 'active', incarnation: 1, leaseAgeMs: 0, capacity, allocated, instances }] };
  }

  async close(): Promise<void> {}
}

export interface MemberNodeOptions extends MembershipTiming {
  store: MembershipStore;
  /** WISP_CLUSTER_SECRET; null: the first node makes one and shares it through the store. */
  secret: string | null;
  /** This node's data dir, where each incarnation leaves its process id (local-incarnation.ts). */
  dataDir: string;
  nodeId: string;
  /** What the node reports of itself, but its address (which advertise() sets). */
  report: () => Omit<NodeReport, 'address'>;
  log: (message: string) => void;
}

/** A node of a cluster over Redis. */
export class MemberNode implements ClusterNode {
  readonly clustered = true;
  address: string | null = null;
  readonly #membership: Membership;
  readonly #store: MembershipStore;
  #secret: string | null;
  readonly #dataDir: string;

  constructor(options: MemberNodeOptions) {
    this.#store = options.store;
    this.#secret = options.secret;
    this.#dataDir = options.dataDir;
    this.#membership = new Membership({ ...options, report: () => ({ ...options.report(), address: this.address }) });
    this.#membership.listen({ joined: (incarnation) => recordIncarnation(this.#dataDir, incarnation) });
  }

  get nodeId(): string {
    return this.#membership.nodeId;
  }

  get owner(): string {
    return this.#membership.owner;
  }

  holdsLease(): boolean {
    return this.#membership.holdsLease();
  }

  async join(): Promise<number> {
    this.#secret ??= await this.#store.sharedSecret('internal', randomBytes(32).toString('base64url'));
    let waitMs = await this.#membership.join();
    const replaced = this.#membership.replacedLive;
    // The earlier incarnation was this machine's, and its process is gone: nothing to wait for.
    if (waitMs > 0 && replaced && surelyGone(this.#dataDir, replaced.incarnation)) waitMs = 0;
    recordIncarnation(this.#dataDir, this.#membership.incarnation);
    return waitMs;
  }

  secret(): string {
    if (this.#secret === null) throw new Error('the cluster secret is known once the node has joined');
    return this.#secret;
  }

  advertise(url: string): void {
    this.address = url;
  }

  listen(listener: MembershipListener): void {
    this.#membership.listen(listener);
  }

  async view(): Promise<ClusterView> {
    const { now, nodes } = await this.#store.nodes();
    return {
      mode: 'cluster',
      self: this.nodeId,
      nodes: nodes.map(({ id, address, state, incarnation, renewedAt, capacity, allocated, instances }) => ({ id, address, state, incarnation, leaseAgeMs: Math.max(0, now - renewedAt), capacity, allocated, instances })),
    };
  }

  close(): Promise<void> {
    return this.#membership.close();
  }
}
