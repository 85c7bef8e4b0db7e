// The cluster as the instance router uses it: where a new instance goes (cluster/placement.ts
// over the live nodes' resources, this node's own taken fresh), and sending an operation to the
// node that owns an instance, with the ways that can fail said in instance terms.
import { describeShortfalls, placeInstance, type PlacementCandidate } from '../cluster/placement.js';
import { PeerUnreachable, unavailableError, type Peers } from '../cluster/peers.js';
import { connectToOwner } from '../cluster/socket-relay.js';
import type WebSocket from 'ws';
import { WispError } from '../errors.js';
import type { Registry } from '../registry/registry.js';
import type { NodeResources } from '../scheduler/node-resources.js';
import type { InstanceRecord } from '../store/records.js';
import { requestedResources, type CreateInstanceRequest, type InstanceView } from './instance-record.js';
import type { InstanceOp, InstancePeers } from './instance-router.js';

/** The internal route every operation goes to. */
export const INSTANCE_OPS_PATH = '/internal/v1/instance-ops';

/** Time a forwarded call is given on top of the method's own timeout, for the hop and the queue. */
const FORWARDING_SLACK_MS = 5_000;

export interface ClusterInstancePeersOptions {
  self: string;
  peers: Peers;
  holdsLease: () => boolean;
  resources: NodeResources;
  registry: Registry;
  defaults: { cpu: number; memory: number };
  defaultTimeoutMs: number;
  /** The cluster secret, which signs a relay's WebSocket to an owner. */
  secret: () => string;
  socketFrameBytes: number;
}

export class ClusterInstancePeers implements InstancePeers {
  readonly #o: ClusterInstancePeersOptions;

  constructor(options: ClusterInstancePeersOptions) {
    this.#o = options;
  }

  get self(): string {
    return this.#o.self;
  }

  holdsLease(): boolean {
    return this.#o.holdsLease();
  }

  async send<T>(node: string, op: InstanceOp, timeoutMs: number): Promise<T> {
    const what = 'id' in op ? `instance ${op.id}` : `a new instance of ${op.fn}`;
    try {
      return await this.#o.peers.post<T>(node, INSTANCE_OPS_PATH, op, timeoutMs);
    } catch (err) {
      throw unavailableError(err, node, what);
    }
  }

  async place(request: CreateInstanceRequest & { fn: string; invocationId?: string }, local: () => Promise<{ created: boolean; instance: InstanceView }>): Promise<{ created: boolean; instance: InstanceView }> {
    const wanted = requestedResources(request, this.#o.defaults);
    const candidates = await this.#candidates();
    const placement = placeInstance(candidates, wanted, this.#o.self);
    if (!placement.ok) {
      // `shortfall` is this node's, as a node alone says it; `shortfalls` has every node's.
      const own = placement.shortfalls.find((s) => s.node === this.#o.self);
      throw new WispError('INSUFFICIENT_RESOURCES', `not enough resources on any node of the cluster: ${describeShortfalls(placement.shortfalls)}`, {
        ...(own ? { shortfall: own.short } : {}),
        shortfalls: placement.shortfalls.map(({ node, short }) => ({ node, short })),
      });
    }
    const { fn, invocationId, ...create } = request;
    let lastFull: WispError | undefined;
    for (const node of placement.order) {
      try {
        if (node === this.#o.self) return await local();
        // The constructor's run is recorded on the node that runs it, under the id the client was given.
        return await this.send(node, { op: 'create', fn, request: create, ...(invocationId === undefined ? {} : { invocationId }) }, 60_000);
      } catch (err) {
        // Its resources were a heartbeat old: the next candidate may still have room.
        if (!(err instanceof WispError && (err.code === 'INSUFFICIENT_RESOURCES' || (err.code === 'INSTANCE_UNAVAILABLE' && err.extensions.sent === false)))) throw err;
        lastFull = err;
      }
    }
    throw lastFull!;
  }

  async openSocket(record: InstanceRecord): Promise<WebSocket> {
    const node = record.node!;
    try {
      return await connectToOwner(await this.#o.peers.address(node), record.id, record.epoch ?? 0, this.#o.secret(), this.#o.socketFrameBytes);
    } catch (err) {
      if (err instanceof PeerUnreachable) this.#o.peers.forget(node);
      throw unavailableError(err, node, `instance ${record.id}`);
    }
  }

  callTimeoutMs(record: InstanceRecord): number {
    return (this.#o.registry.find(record.function, record.version)?.config.timeoutMs ?? this.#o.defaultTimeoutMs) + FORWARDING_SLACK_MS;
  }

  /** Live nodes that peers can reach, this one with its resources as they are this moment. */
  #candidates(): Promise<PlacementCandidate[]> {
    const self = this.#o.holdsLease() ? { id: this.#o.self, capacity: this.#o.resources.capacity, allocated: this.#o.resources.allocated } : null;
    return this.#o.peers.candidates(this.#o.self, self);
  }
}
