// Where a group's members run, as the group manager drives them: placed on nodes, started on
// each node all or none (that node reserves every member it takes before any starts), stopped,
// checkpointed and forgotten by node. Alone, every member is on this node (LocalMemberHosts); in
// a cluster, members may be on several (cluster-member-hosts.ts), and the group manager makes
// the group whole across them: one node failing to start its members undoes the others.
import { WispError } from '../errors.js';
import type { GroupPlacementPolicy } from '../cluster/group-placement.js';
import type { InstanceManager } from '../instances/instance-manager.js';
import type { NodeResources, Reservation } from '../scheduler/node-resources.js';
import type { InstanceRecord } from '../store/records.js';

/** How starting one member went: a failure carries its error as a problem's parts. */
export type StartOutcome = { ok: true } | { ok: false; code: string; message: string; extensions: Record<string, unknown> };

export type MemberCheckpoint = Pick<InstanceRecord, 'checkpoint' | 'checkpointedAt'>;

export interface MemberHosts {
  /** This node's id. */
  readonly self: string;
  /** The node each member goes to, in order; throws INSUFFICIENT_RESOURCES when the group fits on no set of nodes. */
  place(members: InstanceRecord[], policy: GroupPlacementPolicy): Promise<string[]>;
  /** Starts `members` on `node`: all of them, or none (those that started are stopped again). */
  start(node: string, group: string, members: InstanceRecord[]): Promise<StartOutcome[]>;
  stop(node: string, ids: string[]): Promise<void>;
  checkpoint(node: string, ids: string[]): Promise<MemberCheckpoint[]>;
  forget(node: string, ids: string[]): Promise<void>;
}

export const outcomeOf = (err: unknown): StartOutcome =>
  err instanceof WispError ? { ok: false, code: err.code, message: err.message, extensions: { ...err.extensions } } : { ok: false, code: 'INTERNAL_ERROR', message: String(err), extensions: {} };

/** Members on this node: its instance host runs them on reservations of its own resources. */
export class LocalMemberHosts implements MemberHosts {
  readonly self: string;
  readonly #host: InstanceManager;
  readonly #resources: NodeResources;

  constructor(self: string, host: InstanceManager, resources: NodeResources) {
    this.self = self;
    this.#host = host;
    this.#resources = resources;
  }

  async place(members: InstanceRecord[]): Promise<string[]> {
    return members.map(() => this.self);
  }

  /** Reserves for every member at once, then starts them all concurrently; any failure undoes them all. */
  async start(_node: string, _group: string, members: InstanceRecord[]): Promise<StartOutcome[]> {
    let reservations: Reservation[];
    try {
      reservations = this.#resources.reserveAll(members.map((m) => m.resources));
    } catch (err) {
      return members.map(() => outcomeOf(err));
    }
    const started = await Promise.allSettled(members.map((m, i) => this.#host.members.start(m, reservations[i]!)));
    if (started.every((s) => s.status === 'fulfilled')) return members.map(() => ({ ok: true }));
    await Promise.all(members.map((m) => this.#host.members.stop(m.id)));
    for (const r of reservations) r.release();
    return started.map((s) => (s.status === 'rejected' ? outcomeOf(s.reason) : { ok: true }));
  }

  async stop(_node: string, ids: string[]): Promise<void> {
    await Promise.all(ids.map((id) => this.#host.members.stop(id)));
  }

  checkpoint(_node: string, ids: string[]): Promise<MemberCheckpoint[]> {
    return Promise.all(ids.map((id) => this.#host.members.checkpoint(id)));
  }

  async forget(_node: string, ids: string[]): Promise<void> {
    for (const id of ids) this.#host.members.forget(id);
  }
}
