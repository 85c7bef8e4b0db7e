// Groups: sets of instances created, suspended, resumed and destroyed as one unit, sharing one
// fate. Resources for every member are reserved before any starts (gang admission); a member that
// cannot start undoes the whole group; a member that dies takes the group with it (or restarts it
// as a whole, by policy). Each group's mutations run under its own mutex.
import { isoTime, type Clock } from '../common/clock.js';
import { KeyedMutex } from '../common/keyed-mutex.js';
import { WispError } from '../errors.js';
import type { InstanceManager } from '../instances/instance-manager.js';
import { view, type CreateInstanceRequest, type InstanceView } from '../instances/instance-record.js';
import type { NodeResources, Reservation } from '../scheduler/node-resources.js';
import type { GroupStore } from '../store/group-store.js';
import type { GroupPolicy, GroupRecord, InstanceRecord } from '../store/records.js';
import { describeMemberFailure, type MemberOutcome } from './member-outcome.js';

export interface MemberSpec extends CreateInstanceRequest {
  function: string;
}

export interface CreateGroupRequest {
  name: string;
  instances: MemberSpec[];
  policy?: Partial<GroupPolicy>;
}

export type GroupView = Omit<GroupRecord, 'members' | 'createdAt' | 'updatedAt'> & { createdAt: string; updatedAt: string; instances: InstanceView[] };

export interface GroupManagerOptions {
  instances: InstanceManager;
  resources: NodeResources;
  store: GroupStore;
  log: (message: string) => void;
  clock: Clock;
}

export class GroupManager {
  readonly #o: GroupManagerOptions;
  readonly #groups = new Map<string, GroupRecord>();
  readonly #mutex = new KeyedMutex();

  constructor(options: GroupManagerOptions) {
    this.#o = options;
    options.instances.onMemberExit((record, detail) => {
      if (record.group !== null) {
        this.#mutex.run(record.group, () => this.#memberDied(record, detail)).catch((err: unknown) => options.log(`group ${record.group}: cannot handle the death of member ${record.id}: ${String(err)}`));
      }
    });
  }

  create(request: CreateGroupRequest): Promise<GroupView> {
    return this.#mutex.run(request.name, async () => {
      if (this.#groups.has(request.name)) throw new WispError('GROUP_EXISTS', `a group named "${request.name}" exists; delete it first or pick another name`);
      const now = this.#o.clock.now();
      const group: GroupRecord = {
        name: request.name,
        status: 'running',
        members: [],
        policy: { onMemberFailure: request.policy?.onMemberFailure ?? 'fail', maxRestarts: request.policy?.maxRestarts ?? 0 },
        restarts: 0,
        failure: null,
        generation: 0,
        createdAt: now,
        updatedAt: now,
      };
      const members = this.#prepare(request);
      await this.#startAll(members, (outcomes) => {
        for (const m of members) this.#o.instances.forgetMember(m.id);
        throw new WispError('GROUP_CREATE_FAILED', `group "${request.name}" was not created: ${describeMemberFailure(outcomes)}; no member was kept`, { members: outcomes });
      });
      group.members = members.map((m) => m.id);
      await this.#o.store.save(group, members);
      this.#groups.set(group.name, group);
      return this.#view(group);
    });
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
      await Promise.all(group.members.map((id) => this.#o.instances.stopMember(id)));
      for (const id of group.members) this.#o.instances.forgetMember(id);
      await this.#o.store.delete(name, group.members);
      this.#groups.delete(name);
    });
  }

  /** Checkpoints every member as one generation, then stops them; any failure changes nothing. */
  suspend(name: string): Promise<GroupView> {
    return this.#mutex.run(name, async () => {
      const group = this.#get(name);
      if (group.status === 'suspended') return this.#view(group);
      if (group.status !== 'running') throw new WispError('GROUP_NOT_RUNNING', `group "${name}" is ${group.status}${group.failure ? ` (${group.failure})` : ''}; only a running group can be suspended`);
      await this.#checkpointAll(group, 'suspended');
      await Promise.all(group.members.map((id) => this.#o.instances.stopMember(id)));
      return this.#view(group);
    });
  }

  /** Restores every member from the group's checkpoint, same ids, all or none. */
  resume(name: string): Promise<GroupView> {
    return this.#mutex.run(name, async () => {
      const group = this.#get(name);
      if (group.status === 'running') return this.#view(group);
      if (group.status !== 'suspended') throw new WispError('GROUP_NOT_SUSPENDED', `group "${name}" is ${group.status}; only a suspended group can be resumed`);
      const members = this.#members(group);
      await this.#startAll(members, (outcomes) => {
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
    for (const group of await this.#o.store.list()) {
      if (this.#groups.has(group.name) || !group.members.every((id) => this.#o.instances.holds(id))) continue;
      this.#groups.set(group.name, group);
      found.push(group);
    }
    await Promise.all(
      found
        .filter((group) => group.status === 'running')
        .map((group) =>
          this.#mutex.run(group.name, async () => {
            const members = this.#members(group);
            await this.#startAll(members, (outcomes) => {
              // This node lost its cluster lease meanwhile: the group is not its to fail. It
              // stays as stored, for whichever node takes its members (this one, after a rejoin).
              if (outcomes.some((outcome) => outcome.code === 'NODE_FENCED')) {
                this.#o.log(`group ${group.name} not started here: this node lost its cluster lease while its members started`);
                this.#groups.delete(group.name);
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
  }

  /** Checkpoints each running group as one generation so it comes back on the next start. */
  async close(): Promise<void> {
    await Promise.all(
      [...this.#groups.values()].map((group) =>
        this.#mutex.run(group.name, async () => {
          if (group.status !== 'running') return;
          await this.#checkpointAll(group, 'running').catch((err: Error) => this.#o.log(`group ${group.name} not checkpointed at shutdown: ${err.message}`));
          await Promise.all(group.members.map((id) => this.#o.instances.stopMember(id)));
        }),
      ),
    );
  }

  #prepare(request: CreateGroupRequest): InstanceRecord[] {
    const outcomes: MemberOutcome[] = [];
    const members: InstanceRecord[] = [];
    const names = new Set<string>();
    request.instances.forEach((spec, index) => {
      try {
        const { function: fn, ...instance } = spec;
        if (spec.name !== undefined && names.has(`${fn}/${spec.name}`)) throw new WispError('INVALID_REQUEST', `two members of the group are named "${spec.name}"`);
        if (spec.name !== undefined) names.add(`${fn}/${spec.name}`);
        members.push(this.#o.instances.prepareMember(fn, instance, request.name));
        outcomes.push({ index, function: fn, result: 'ready' });
      } catch (err) {
        outcomes.push(memberError(index, spec.function, err));
      }
    });
    if (outcomes.some((o) => o.result === 'failed')) {
      throw new WispError('GROUP_CREATE_FAILED', `group "${request.name}" was not created: ${describeMemberFailure(outcomes)}; nothing was started`, { members: outcomes });
    }
    return members;
  }

  /**
   * Reserves for every member at once, then starts them all concurrently. If any cannot start,
   * the ones that did are stopped, every reservation is released, and `onFailure` is told why.
   */
  async #startAll(members: InstanceRecord[], onFailure: (outcomes: MemberOutcome[]) => void | Promise<void>): Promise<void> {
    let reservations: Reservation[];
    try {
      reservations = this.#o.resources.reserveAll(members.map((m) => m.resources));
    } catch (err) {
      const shortage = memberError(-1, '(all members)', err);
      return await onFailure(members.map((m, index) => ({ ...shortage, index, function: m.function })));
    }
    const started = await Promise.allSettled(members.map((m, i) => this.#o.instances.startMember(m, reservations[i]!)));
    if (started.every((s) => s.status === 'fulfilled')) return;
    await Promise.all(members.map((m) => this.#o.instances.stopMember(m.id)));
    for (const r of reservations) r.release();
    await onFailure(
      started.map((s, index) =>
        s.status === 'rejected' ? memberError(index, members[index]!.function, s.reason) : { index, function: members[index]!.function, result: 'stopped' as const },
      ),
    );
  }

  async #checkpointAll(group: GroupRecord, status: 'suspended' | 'running'): Promise<void> {
    const members = this.#members(group);
    // Every member's state is written before any record changes: a failure leaves the group as it was.
    const checkpoints = await Promise.all(group.members.map((id) => this.#o.instances.checkpointMember(id)));
    members.forEach((m, i) => Object.assign(m, checkpoints[i]));
    group.generation++;
    await this.#setStatus(group, status, members);
  }

  async #memberDied(record: InstanceRecord, detail: string): Promise<void> {
    const group = this.#groups.get(record.group!);
    if (!group || group.status !== 'running' || !group.members.includes(record.id)) return;
    const members = this.#members(group);
    const why = `member ${record.id} (${record.function} ${record.class}) died: ${detail}`;
    await Promise.all(group.members.map((id) => this.#o.instances.stopMember(id)));
    if (group.policy.onMemberFailure === 'restart' && group.restarts < group.policy.maxRestarts) {
      group.restarts++;
      let failed = false;
      await this.#startAll(members, (outcomes) => {
        failed = true;
        return this.#fail(group, members, `${why}; the restart failed: ${describeMemberFailure(outcomes)}`);
      });
      if (!failed) await this.#setStatus(group, 'running', members);
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

  async #setStatus(group: GroupRecord, status: GroupRecord['status'], members: InstanceRecord[]): Promise<void> {
    const now = this.#o.clock.now();
    group.status = status;
    group.updatedAt = now;
    if (status !== 'failed') for (const m of members) Object.assign(m, { status, updatedAt: now });
    await this.#o.store.save(group, members);
  }

  #members(group: GroupRecord): InstanceRecord[] {
    return group.members.map((id) => this.#o.instances.memberRecord(id));
  }

  #view(group: GroupRecord): GroupView {
    const { members: _members, createdAt, updatedAt, ...rest } = group;
    return { ...rest, createdAt: isoTime(createdAt), updatedAt: isoTime(updatedAt), instances: this.#members(group).map(view) };
  }

  #get(name: string): GroupRecord {
    const group = this.#groups.get(name);
    if (!group) throw new WispError('GROUP_NOT_FOUND', `no group named "${name}"`);
    return group;
  }
}

function memberError(index: number, fn: string, err: unknown): MemberOutcome {
  if (err instanceof WispError) {
    return { index, function: fn, result: 'failed', code: err.code, detail: err.message, ...(err.extensions.shortfall ? { shortfall: err.extensions.shortfall } : {}) };
  }
  return { index, function: fn, result: 'failed', code: 'INTERNAL_ERROR', detail: String(err) };
}
