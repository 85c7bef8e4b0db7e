// A group's members on the hosts they run on (member-hosts.ts), moved as one: placed and
// started node by node with every node's share all or none, and stopped, checkpointed and
// forgotten on whichever node each member is. What the group is (its status, its policy) is
// the group manager's; this is how its members get where they go.
import type { Clock } from '../common/clock.js';
import { WispError } from '../errors.js';
import type { GroupRecord, InstanceRecord } from '../store/records.js';
import { outcomeOf, type MemberHosts, type StartOutcome } from './member-hosts.js';
import { memberError, type MemberOutcome } from './member-outcome.js';

export class MemberFleet {
  readonly #hosts: MemberHosts;
  readonly #clock: Clock;
  readonly #log: (message: string) => void;

  constructor(hosts: MemberHosts, clock: Clock, log: (message: string) => void) {
    this.#hosts = hosts;
    this.#clock = clock;
    this.#log = log;
  }

  /**
   * Places the members, then starts each node's share at once, every node reserving for all it
   * takes before any starts. If any node cannot start its share, the others are stopped (each
   * node releases what it reserved), and `onFailure` is told why, member by member.
   */
  async startAll(group: GroupRecord, members: InstanceRecord[], onFailure: (outcomes: MemberOutcome[]) => void | Promise<void>): Promise<void> {
    let nodes: string[];
    try {
      nodes = await this.#hosts.place(members, group.policy.placement ?? 'pack');
    } catch (err) {
      const shortage = memberError(-1, '(all members)', err);
      return await onFailure(members.map((m, index) => ({ ...shortage, index, function: m.function })));
    }
    const left = members.filter((m, i) => m.node && m.node !== nodes[i]).map((m) => ({ ...m }));
    members.forEach((m, i) => moveTo(m, nodes[i]!));
    const shares = byNode(members);
    const results = new Map<string, StartOutcome>();
    /** Nodes that answered that they could not start their share, and so undid it. */
    const undone = new Set<string>();
    await Promise.all(
      [...shares].map(async ([node, share]) => {
        let outcomes: StartOutcome[];
        try {
          outcomes = await this.#hosts.start(node, group.name, share);
          if (outcomes.some((outcome) => !outcome.ok)) undone.add(node);
        } catch (err) {
          // No answer: the node may have started its share, and is asked to stop it below.
          outcomes = share.map(() => outcomeOf(err));
        }
        share.forEach((m, i) => results.set(m.id, outcomes[i]!));
      }),
    );
    if (members.every((m) => results.get(m.id)!.ok)) {
      // As each member's host marked its own copy.
      for (const m of members) Object.assign(m, { status: 'running', failure: null, updatedAt: this.#clock.now() });
      // A member that moved is nothing to the node it left (that node may be dead: nothing to tell then).
      await this.forget(left);
      return;
    }
    await this.stop(members.filter((m) => !undone.has(m.node!)));
    await onFailure(
      members.map((m, index) => {
        const outcome = results.get(m.id)!;
        return outcome.ok ? { index, function: m.function, result: 'stopped' as const } : memberError(index, m.function, new WispError(outcome.code as WispError['code'], outcome.message, outcome.extensions));
      }),
    );
  }

  /** Stops members wherever they run; a node that cannot be reached (it died) has no member left running. */
  async stop(members: InstanceRecord[]): Promise<void> {
    await Promise.all(
      [...byNode(members)].map(([node, share]) =>
        this.#hosts.stop(node, share.map((m) => m.id)).catch((err: unknown) => this.#log(`cannot stop members ${share.map((m) => m.id).join(', ')} on node ${node}: ${String(err)}`)),
      ),
    );
  }

  async forget(members: InstanceRecord[]): Promise<void> {
    await Promise.all([...byNode(members)].map(([node, share]) => this.#hosts.forget(node, share.map((m) => m.id)).catch(() => undefined)));
  }

  /** Checkpoints every member where it runs; each record gets its new checkpoint fields. */
  async checkpoint(members: InstanceRecord[]): Promise<void> {
    const shares = [...byNode(members)];
    const checkpoints = await Promise.all(shares.map(([node, share]) => this.#hosts.checkpoint(node, share.map((m) => m.id))));
    shares.forEach(([, share], n) => share.forEach((m, i) => Object.assign(m, checkpoints[n]![i])));
  }
}

/** The members by the node each runs on, in their order. */
function byNode(members: InstanceRecord[]): Map<string, InstanceRecord[]> {
  const shares = new Map<string, InstanceRecord[]>();
  for (const m of members) {
    const node = m.node ?? '';
    shares.set(node, [...(shares.get(node) ?? []), m]);
  }
  return shares;
}

/**
 * Puts a member on `node`. A member that moves gets a new epoch: a write or an answer of its
 * copy on the node it left is then refused (design §5.2).
 */
function moveTo(member: InstanceRecord, node: string): void {
  if (member.node === node) return;
  if (member.node !== null && member.node !== undefined) member.epoch = (member.epoch ?? 0) + 1;
  member.node = node;
}
