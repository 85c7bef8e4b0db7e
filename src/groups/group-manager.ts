// Groups: sets of instances created, suspended, resumed and destroyed as one unit, sharing one
// fate. Members are placed (packed or spread over a cluster's nodes), and each node reserves for
// every member it takes before any starts (gang admission); a member, or a node, that cannot
// start undoes the whole group; a member that dies (or its node) takes the group with it, or
// restarts it as a whole, by policy. The node that created a group manages it (its home); the
// others send it their members' deaths, and their clients' operations (group-router.ts). A
// group whose home died is taken over. Each group's mutations run under its own mutex.
import { isoTime, type Clock } from '../common/clock.js';
import { KeyedMutex } from '../common/keyed-mutex.js';
import { WispError } from '../errors.js';
import type { InstanceManager } from '../instances/instance-manager.js';
import { view, type CreateInstanceRequest, type InstanceView } from '../instances/instance-record.js';
import type { GroupStore } from '../store/group-store.js';
import type { GroupPolicy, GroupRecord, InstanceRecord } from '../store/records.js';
import type { MemberHosts } from './member-hosts.js';
import { MemberFleet } from './member-fleet.js';
import { describeMemberFailure, memberError, type MemberOutcome } from './member-outcome.js';

export interface MemberSpec extends CreateInstanceRequest {
  function: string;
}

export interface CreateGroupRequest {
  name: string;
  instances: MemberSpec[];
  policy?: Partial<GroupPolicy>;
}

export type GroupView = Omit<GroupRecord, 'members' | 'createdAt' | 'updatedAt'> & { createdAt: string; updatedAt: string; instances: InstanceView[] };

/** A group as the API shows it, with its members' records. */
export function groupView(group: GroupRecord, members: InstanceRecord[]): GroupView {
  const { members: _members, createdAt, updatedAt, ...rest } = group;
  return { ...rest, createdAt: isoTime(createdAt), updatedAt: isoTime(updatedAt), instances: members.map(view) };
}

export interface GroupManagerOptions {
  instances: InstanceManager;
  /** Where members run: this node alone, or the cluster's nodes. */
  hosts: MemberHosts;
  /** Tells a member's group home that it died, when the group is managed elsewhere (a cluster's). */
  elsewhere?: (record: InstanceRecord, detail: string) => void;
  /** A member's record as stored, for a group taken over from a dead home (a cluster's). */
  loadMember?: (id: string) => Promise<InstanceRecord | null>;
  store: GroupStore;
  log: (message: string) => void;
  clock: Clock;
}

export class GroupManager {
  readonly #o: GroupManagerOptions;
  readonly #groups = new Map<string, GroupRecord>();
  /** The records of the members of the groups managed here, wherever the members run. */
  readonly #records = new Map<string, InstanceRecord>();
  readonly #mutex = new KeyedMutex();
  readonly #fleet: MemberFleet;

  constructor(options: GroupManagerOptions) {
    this.#o = options;
    this.#fleet = new MemberFleet(options.hosts, options.clock, options.log);
    options.instances.members.onExit((record, detail) => {
      if (record.group === null) return;
      if (!this.#groups.has(record.group) && options.elsewhere) return options.elsewhere(record, detail);
      this.memberDied(record.group, record.id, detail);
    });
  }

  /** A member of a group managed here died (here, on another node, or with its node). */
  memberDied(group: string, id: string, detail: string): void {
    this.#mutex.run(group, () => this.#memberDied(group, id, detail)).catch((err: unknown) => this.#o.log(`group ${group}: cannot handle the death of member ${id}: ${String(err)}`));
  }

  /**
   * Takes over the groups whose home is not one of the active nodes (it died): this node
   * claims each (one claimer wins) and manages it from then on. A running group that had a
   * member on a dead node lost that member: it fails, or restarts on live nodes, by its policy.
   */
  async adoptOrphans(activeNodes: () => Promise<ReadonlySet<string>>): Promise<void> {
    if (!this.#o.loadMember) return;
    const groups = await this.#o.store.list();
    // Read after the list: a home that joined meanwhile is known to it (see InstanceFailover.sweepNow).
    const active = await activeNodes();
    for (const stored of groups) {
      if (!stored.node || active.has(stored.node) || this.#groups.has(stored.name)) continue;
      await this.#mutex.run(stored.name, () => this.#adopt(stored.name, stored.node!, active));
    }
  }

  /**
   * A group this node is the home of, found again after a restart or a rejoin, with members on
   * other nodes: managed from here again. A member that ran here did not survive this node's
   * absence: the group fails, or restarts, by its policy.
   */
  async #manageAgain(group: GroupRecord): Promise<void> {
    const members = await Promise.all(group.members.map((id) => this.#o.loadMember!(id)));
    const found = members.filter((m): m is InstanceRecord => m !== null);
    this.#groups.set(group.name, group);
    for (const m of found) this.#records.set(m.id, m);
    if (group.status !== 'running') return;
    if (found.length < members.length) return this.#fail(group, found, 'some of its members\' records are gone');
    // Its threads here ended with this node's start (or its fence): none of its members here runs.
    const lost = found.find((m) => m.node === this.#o.hosts.self);
    if (lost) await this.#memberDied(group.name, lost.id, `its node ${lost.node} restarted`);
  }

  async #adopt(name: string, formerHome: string, active: ReadonlySet<string>): Promise<void> {
    const group = await this.#o.store.claimHome(name, formerHome, this.#o.hosts.self);
    if (!group) return;
    const members = await Promise.all(group.members.map((id) => this.#o.loadMember!(id)));
    this.#groups.set(name, group);
    members.forEach((m, i) => m && this.#records.set(group.members[i]!, m));
    this.#o.log(`group ${name}: its home, node ${formerHome}, died; node ${this.#o.hosts.self} manages it now`);
    if (group.status !== 'running') return;
    const found = members.filter((m): m is InstanceRecord => m !== null);
    if (found.length < members.length) return this.#fail(group, found, `its home node ${formerHome} died, and some of its members' records are gone`);
    const lost = found.find((m) => !m.node || !active.has(m.node));
    if (lost) await this.#memberDied(name, lost.id, `its node ${lost.node} died`);
  }

  /** The nodes the members of the groups managed here run on. */
  memberNodes(): string[] {
    const running = [...this.#groups.values()].filter((group) => group.status === 'running');
    return running.flatMap((group) => group.members.flatMap((id) => this.#records.get(id)?.node ?? []));
  }

  /** Nodes of the cluster died: each group managed here with a member on one of them lost that member. */
  nodesDied(nodes: readonly string[]): void {
    const dead = new Set(nodes);
    for (const group of this.#groups.values()) {
      const lost = group.members.map((id) => this.#records.get(id)).find((record) => record?.node && dead.has(record.node));
      if (lost) this.memberDied(group.name, lost.id, `its node ${lost.node} died`);
    }
  }

  create(request: CreateGroupRequest): Promise<GroupView> {
    return this.#mutex.run(request.name, async () => {
      // Held in the store while the members start: of two nodes creating one name, one goes on.
      if (this.#groups.has(request.name) || !(await this.#o.store.reserveName(request.name, this.#o.hosts.self))) {
        throw new WispError('GROUP_EXISTS', `a group named "${request.name}" exists; delete it first or pick another name`);
      }
      try {
        return await this.#create(request);
      } catch (err) {
        await this.#o.store.releaseName(request.name, this.#o.hosts.self).catch(() => undefined);
        throw err;
      }
    });
  }

  async #create(request: CreateGroupRequest): Promise<GroupView> {
    const now = this.#o.clock.now();
    const group: GroupRecord = {
      name: request.name,
      status: 'running',
      members: [],
      policy: { onMemberFailure: request.policy?.onMemberFailure ?? 'fail', maxRestarts: request.policy?.maxRestarts ?? 0, placement: request.policy?.placement ?? 'pack' },
      node: this.#o.hosts.self,
      restarts: 0,
      failure: null,
      generation: 0,
      createdAt: now,
      updatedAt: now,
    };
    const members = await this.#prepare(request);
    await this.#fleet.startAll(group, members, async (outcomes) => {
      await this.#fleet.forget(members);
      throw new WispError('GROUP_CREATE_FAILED', `group "${request.name}" was not created: ${describeMemberFailure(outcomes)}; no member was kept`, { members: outcomes });
    });
    group.members = members.map((m) => m.id);
    try {
      await this.#o.store.save(group, members);
    } catch (err) {
      // Not stored, so not created: no member may run on for a group nobody knows.
      await this.#fleet.stop(members);
      await this.#fleet.forget(members);
      throw err;
    }
    this.#groups.set(group.name, group);
    for (const m of members) this.#records.set(m.id, m);
    return this.#view(group);
  }

  /** Whether this node manages the group (its home); the router sends the others' operations to theirs. */
  manages(name: string): boolean {
    return this.#groups.has(name);
  }

  get(name: string): GroupView {
    return this.#view(this.#get(name));
  }

  list(): GroupView[] {
    return [...this.#groups.values()].map((group) => this.#view(group));
  }

  /** Stops every member (a member stuck in a loop included: its thread is terminated). */
  delete(name: string): Promise<void> {
    return this.#mutex.run(name, async () => {
      const group = this.#get(name);
      const members = this.#members(group);
      await this.#fleet.stop(members);
      await this.#fleet.forget(members);
      await this.#o.store.delete(name, group.members);
      this.#groups.delete(name);
      for (const id of group.members) this.#records.delete(id);
    });
  }

  /** Checkpoints every member as one generation, then stops them; any failure changes nothing. */
  suspend(name: string): Promise<GroupView> {
    return this.#mutex.run(name, async () => {
      const group = this.#get(name);
      if (group.status === 'suspended') return this.#view(group);
      if (group.status !== 'running') throw new WispError('GROUP_NOT_RUNNING', `group "${name}" is ${group.status}${group.failure ? ` (${group.failure})` : ''}; only a running group can be suspended`);
      await this.#checkpointAll(group, 'suspended');
      await this.#fleet.stop(this.#members(group));
      return this.#view(group);
    });
  }

  /** Restores every member from the group's checkpoint, same ids, all or none; in a cluster, placed again (it may land on other nodes). */
  resume(name: string): Promise<GroupView> {
    return this.#mutex.run(name, async () => {
      const group = this.#get(name);
      if (group.status === 'running') return this.#view(group);
      if (group.status !== 'suspended') throw new WispError('GROUP_NOT_SUSPENDED', `group "${name}" is ${group.status}; only a suspended group can be resumed`);
      const members = this.#members(group);
      await this.#fleet.startAll(group, members, (outcomes) => {
        const short = outcomes.find((o) => o.code === 'INSUFFICIENT_RESOURCES');
        if (short) throw new WispError('INSUFFICIENT_RESOURCES', `group "${name}" stays suspended: ${short.detail}`, { shortfall: short.shortfall });
        throw new WispError('INSTANCE_INIT_FAILED', `group "${name}" stays suspended: ${describeMemberFailure(outcomes)}`, { members: outcomes });
      });
      await this.#setStatus(group, 'running', members);
      return this.#view(group);
    });
  }

  /** Starts this node's groups that were running when it stopped; the others stay as they were. */
  async recover(): Promise<void> {
    // A group whose members this node does not hold is another node's (in a cluster): not started
    // here. One already known here runs already.
    const found: GroupRecord[] = [];
    const self = this.#o.hosts.self;
    for (const group of await this.#o.store.list()) {
      // Managed by another node (it took the group over while this one was away).
      if (this.#groups.has(group.name) || (group.node !== undefined && group.node !== self)) continue;
      if (!group.members.every((id) => this.#o.instances.holds(id))) {
        // This node is its home, and some members run on other nodes: it manages them again.
        if (group.node === self && this.#o.loadMember) await this.#mutex.run(group.name, () => this.#manageAgain(group));
        continue;
      }
      this.#groups.set(group.name, group);
      for (const id of group.members) this.#records.set(id, this.#o.instances.members.record(id));
      found.push(group);
    }
    await Promise.all(
      found
        .filter((group) => group.status === 'running')
        .map((group) =>
          this.#mutex.run(group.name, async () => {
            const members = this.#members(group);
            await this.#fleet.startAll(group, members, (outcomes) => {
              // This node lost its cluster lease meanwhile: the group is not its to fail. It
              // stays as stored, for whichever node takes its members (this one, after a rejoin).
              if (outcomes.some((outcome) => outcome.code === 'NODE_FENCED')) {
                this.#o.log(`group ${group.name} not started here: this node lost its cluster lease while its members started`);
                this.#forgetGroup(group);
                return;
              }
              return this.#fail(group, members, `it did not come back after a restart: ${describeMemberFailure(outcomes)}`);
            });
          }),
        ),
    );
  }

  /** This node let go of its instances (it lost its cluster lease): its groups are forgotten here too, until it takes them back. */
  dropAll(): void {
    this.#groups.clear();
    this.#records.clear();
  }

  /** Checkpoints each running group as one generation so it comes back on the next start. */
  async close(): Promise<void> {
    await Promise.all(
      [...this.#groups.values()].map((group) =>
        this.#mutex.run(group.name, async () => {
          if (group.status !== 'running') return;
          await this.#checkpointAll(group, 'running').catch((err: Error) => this.#o.log(`group ${group.name} not checkpointed at shutdown: ${err.message}`));
          await this.#fleet.stop(this.#members(group)).catch((err: Error) => this.#o.log(`group ${group.name}: not every member stopped at shutdown: ${err.message}`));
        }),
      ),
    );
  }

  async #prepare(request: CreateGroupRequest): Promise<InstanceRecord[]> {
    const outcomes: MemberOutcome[] = [];
    const members: InstanceRecord[] = [];
    const names = new Set<string>();
    for (const [index, spec] of request.instances.entries()) {
      try {
        const { function: fn, ...instance } = spec;
        if (spec.name !== undefined && names.has(`${fn}/${spec.name}`)) throw new WispError('INVALID_REQUEST', `two members of the group are named "${spec.name}"`);
        if (spec.name !== undefined) names.add(`${fn}/${spec.name}`);
        members.push(await this.#o.instances.members.prepare(fn, instance, request.name));
        outcomes.push({ index, function: fn, result: 'ready' });
      } catch (err) {
        outcomes.push(memberError(index, spec.function, err));
      }
    }
    if (outcomes.some((o) => o.result === 'failed')) {
      throw new WispError('GROUP_CREATE_FAILED', `group "${request.name}" was not created: ${describeMemberFailure(outcomes)}; nothing was started`, { members: outcomes });
    }
    return members;
  }

  #forgetGroup(group: GroupRecord): void {
    this.#groups.delete(group.name);
    for (const id of group.members) this.#records.delete(id);
  }

  async #checkpointAll(group: GroupRecord, status: 'suspended' | 'running'): Promise<void> {
    const members = this.#members(group);
    // Every member's state is written before any record changes: a failure leaves the group as it was.
    await this.#fleet.checkpoint(members);
    group.generation++;
    await this.#setStatus(group, status, members);
  }

  async #memberDied(name: string, id: string, detail: string): Promise<void> {
    const group = this.#groups.get(name);
    const record = this.#records.get(id);
    if (!group || !record || group.status !== 'running' || !group.members.includes(id)) return;
    const members = this.#members(group);
    const why = `member ${record.id} (${record.function} ${record.class}) died: ${detail}`;
    await this.#fleet.stop(members);
    if (group.policy.onMemberFailure === 'restart' && group.restarts < group.policy.maxRestarts) {
      // Counted once the restart is stored, with where the members run now: a reader that sees
      // the count sees the members where they are.
      const restarts = group.restarts + 1;
      let failed = false;
      await this.#fleet.startAll(group, members, (outcomes) => {
        failed = true;
        group.restarts = restarts;
        return this.#fail(group, members, `${why}; the restart failed: ${describeMemberFailure(outcomes)}`);
      });
      if (!failed) await this.#setStatus(group, 'running', members, { restarts });
      return;
    }
    await this.#fail(group, members, why);
  }

  async #fail(group: GroupRecord, members: InstanceRecord[], why: string): Promise<void> {
    this.#o.log(`group ${group.name} failed: ${why}`);
    group.failure = `group "${group.name}" failed: ${why}`;
    for (const m of members) Object.assign(m, { status: 'failed', failure: group.failure });
    await this.#setStatus(group, 'failed', members);
  }

  /** Stores the group with its new status (and `changes`), then shows it: a reader never sees what is not stored yet. */
  async #setStatus(group: GroupRecord, status: GroupRecord['status'], members: InstanceRecord[], changes: Partial<GroupRecord> = {}): Promise<void> {
    const now = this.#o.clock.now();
    const next = { ...changes, status, updatedAt: now };
    if (status !== 'failed') for (const m of members) Object.assign(m, { status, updatedAt: now });
    await this.#o.store.save({ ...group, ...next }, members);
    Object.assign(group, next);
  }

  #members(group: GroupRecord): InstanceRecord[] {
    return group.members.map((id) => this.#records.get(id) ?? this.#o.instances.members.record(id));
  }

  #view(group: GroupRecord): GroupView {
    return groupView(group, this.#members(group));
  }

  #get(name: string): GroupRecord {
    const group = this.#groups.get(name);
    if (!group) throw new WispError('GROUP_NOT_FOUND', `no group named "${name}"`);
    return group;
  }
}
