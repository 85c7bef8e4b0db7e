// A group's members on the nodes of a cluster: placed over the live nodes' free resources
// (cluster/group-placement.ts), each node's share started there through the internal route
// (the node reserves its share or nothing, see member-hosts.ts), and stopped, checkpointed and
// forgotten there. The node a member runs on remembers the group's home, and tells it when the
// member dies; a home watches its members' nodes, and treats a node declared dead as the death
// of its members there.
import type { ClusterNode } from '../cluster/cluster-node.js';
import { placeGroup, type GroupPlacementPolicy } from '../cluster/group-placement.js';
import { describeShortfalls } from '../cluster/placement.js';
import { unavailableError, type Peers } from '../cluster/peers.js';
import { WispError } from '../errors.js';
import { INSTANCE_OPS_PATH } from '../instances/instance-peers.js';
import type { NodeResources } from '../scheduler/node-resources.js';
import type { InstanceRecord } from '../store/records.js';
import type { GroupAction } from './group-router.js';
import type { LocalMemberHosts, MemberCheckpoint, MemberHosts, StartOutcome } from './member-hosts.js';

/** What one node asks another about group members (the internal route's body, see group-ops.ts). */
export type MemberOp =
  | { op: 'members-start'; group: string; home: string; records: InstanceRecord[] }
  | { op: 'members-stop' | 'members-checkpoint' | 'members-forget'; ids: string[] }
  | { op: 'member-died'; group: string; id: string; detail: string }
  | { op: 'group'; action: GroupAction; name: string };

export const isMemberOp = (op: { op: string }): op is MemberOp => op.op.startsWith('member') || op.op === 'group';

/** How long a node may take to start its share of a group (threads boot, checkpoints restore). */
const START_TIMEOUT_MS = 60_000;
const OP_TIMEOUT_MS = 30_000;
/** A home looks at its members' nodes every this many renewals of its lease. */
const WATCH_EVERY_RENEWALS = 2;

export interface ClusterMemberHostsOptions {
  local: LocalMemberHosts;
  cluster: ClusterNode;
  peers: Peers;
  resources: NodeResources;
  /** How old another node's view of its resources may be: its heartbeat period. */
  viewAgeMs: number;
  /** The node that manages `group` now, as stored (another takes over when its home dies). */
  homeOf: (group: string) => Promise<string | null>;
  log: (message: string) => void;
}

export class ClusterMemberHosts implements MemberHosts {
  readonly #o: ClusterMemberHostsOptions;
  /** Members running here for a group managed elsewhere: member id → the group and its home. */
  readonly #homes = new Map<string, { group: string; home: string }>();
  #renewals = 0;

  constructor(options: ClusterMemberHostsOptions) {
    this.#o = options;
  }

  get self(): string {
    return this.#o.cluster.nodeId;
  }

  /**
   * Every other renewal, `nodes()` (the nodes members of groups managed here run on) are checked
   * against the cluster's live ones; `died` hears those declared dead.
   */
  watch(nodes: () => string[], died: (nodes: string[]) => void): void {
    this.#o.cluster.listen({
      renewed: () => {
        if (++this.#renewals % WATCH_EVERY_RENEWALS !== 0) return;
        const used = nodes().filter((node) => node !== this.self);
        if (used.length === 0) return;
        this.#o.peers.nodes().then(
          ({ nodes: known }) => {
            const active = new Set(known.filter((node) => node.state === 'active').map((node) => node.id));
            const dead = [...new Set(used)].filter((node) => !active.has(node));
            if (dead.length > 0) died(dead);
          },
          (err: unknown) => this.#o.log(`cannot check the nodes of this node's groups: ${String(err)}`),
        );
      },
    });
  }

  async place(members: InstanceRecord[], policy: GroupPlacementPolicy): Promise<string[]> {
    let placement = await this.#placeOnce(members, policy);
    // Other nodes' views are a heartbeat old: one that just freed what the group needs (a
    // member that died there, a group stopped for a restart) shows it at its next heartbeat.
    if (!placement.ok && placement.shortfalls.some((s) => s.node !== this.self)) {
      await new Promise((resolve) => setTimeout(resolve, this.#o.viewAgeMs));
      placement = await this.#placeOnce(members, policy);
    }
    if (placement.ok) return placement.nodes;
    const own = placement.shortfalls.find((s) => s.node === this.self);
    throw new WispError('INSUFFICIENT_RESOURCES', `not enough resources in the cluster for member ${placement.member} of the group, after the members placed before it: ${describeShortfalls(placement.shortfalls)}`, {
      ...(own ? { shortfall: own.short } : {}),
      shortfalls: placement.shortfalls.map(({ node, short }) => ({ node, short })),
    });
  }

  async #placeOnce(members: InstanceRecord[], policy: GroupPlacementPolicy): Promise<ReturnType<typeof placeGroup>> {
    const self = this.#o.cluster.holdsLease() ? { id: this.self, capacity: this.#o.resources.capacity, allocated: this.#o.resources.allocated } : null;
    return placeGroup(await this.#o.peers.candidates(this.self, self), members.map((m) => m.resources), policy, this.self);
  }

  start(node: string, group: string, members: InstanceRecord[]): Promise<StartOutcome[]> {
    if (node === this.self) return this.#o.local.start(node, group, members);
    return this.#send<StartOutcome[]>(node, { op: 'members-start', group, home: this.self, records: members }, START_TIMEOUT_MS);
  }

  stop(node: string, ids: string[]): Promise<void> {
    return node === this.self ? this.#o.local.stop(node, ids) : this.#send(node, { op: 'members-stop', ids }, OP_TIMEOUT_MS);
  }

  checkpoint(node: string, ids: string[]): Promise<MemberCheckpoint[]> {
    return node === this.self ? this.#o.local.checkpoint(node, ids) : this.#send(node, { op: 'members-checkpoint', ids }, OP_TIMEOUT_MS);
  }

  forget(node: string, ids: string[]): Promise<void> {
    return node === this.self ? this.#o.local.forget(node, ids) : this.#send(node, { op: 'members-forget', ids }, OP_TIMEOUT_MS);
  }

  /** Runs the share of a group another node (its home) placed here. */
  async startHere(group: string, home: string, records: InstanceRecord[]): Promise<StartOutcome[]> {
    const outcomes = await this.#o.local.start(this.self, group, records);
    if (outcomes.every((outcome) => outcome.ok)) for (const record of records) this.#homes.set(record.id, { group, home });
    return outcomes;
  }

  forgetHere(ids: string[]): Promise<void> {
    for (const id of ids) this.#homes.delete(id);
    return this.#o.local.forget(this.self, ids);
  }

  /** A member running here for a group managed elsewhere died: its home decides what the group does. */
  tellHome(record: InstanceRecord, detail: string): void {
    void this.#tellHome(record, detail);
  }

  async #tellHome(record: InstanceRecord, detail: string): Promise<void> {
    const known = this.#homes.get(record.id);
    const group = record.group ?? known?.group;
    if (!group) return;
    // The stored home first: the node that placed the member may have died, and another took the group over.
    const home = (await this.#o.homeOf(group).catch(() => null)) ?? known?.home;
    if (!home || home === this.self) return this.#o.log(`member ${record.id} of group ${group} died here, and no other node manages the group`);
    await this.#send(home, { op: 'member-died', group, id: record.id, detail: `${detail} (on node ${this.self})` }, OP_TIMEOUT_MS).catch((err: unknown) =>
      this.#o.log(`cannot tell node ${home} that member ${record.id} of group ${group} died: ${String(err)}`),
    );
  }

  /** Sends a group operation to the group's home. */
  forward<T>(home: string, action: GroupAction, name: string): Promise<T> {
    return this.#send<T>(home, { op: 'group', action, name }, START_TIMEOUT_MS);
  }

  async #send<T>(node: string, op: MemberOp, timeoutMs: number): Promise<T> {
    try {
      return await this.#o.peers.post<T>(node, INSTANCE_OPS_PATH, op, timeoutMs);
    } catch (err) {
      throw unavailableError(err, node, 'op' in op && op.op === 'group' ? `group ${op.name}` : 'members of a group');
    }
  }
}
