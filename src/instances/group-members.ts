// Instances that belong to a group, as the instance manager runs them for groups/group-manager.ts,
// which drives them all or none: it makes their records, starts them on reservations made for the
// whole group, checkpoints and stops them together. Members are never restarted, suspended or
// hibernated one by one; when one's thread dies, the group hears it (onExit).
import { WispError } from '../errors.js';
import type { Registry } from '../registry/registry.js';
import type { Reservation } from '../scheduler/node-resources.js';
import type { InstanceRecord } from '../store/records.js';
import type { Clock } from '../common/clock.js';
import { newInstanceRecord, type CreateInstanceRequest } from './instance-record.js';
import { CLOSE, type InstanceSockets } from './instance-sockets.js';
import { runningThread, stopThread, type LiveInstance, type LiveInstances } from './live-instances.js';

/** What members need of the instance manager. */
export interface GroupMembersHost {
  instances: LiveInstances;
  sockets: InstanceSockets;
  registry: Registry;
  clock: Clock;
  nodeId: string;
  defaults: { cpu: number; memory: number };
  /** Starts the member's thread on its reservation (from its checkpoint if it has one). */
  launch: (live: LiveInstance, reserved: Reservation) => Promise<void>;
  /** Checkpoints a running member's thread, without touching its record. */
  checkpoint: (live: LiveInstance) => Promise<Pick<InstanceRecord, 'checkpoint' | 'checkpointedAt'>>;
}

export class GroupMembers {
  readonly #o: GroupMembersHost;
  #exit: ((record: InstanceRecord, detail: string) => void) | undefined;

  constructor(host: GroupMembersHost) {
    this.#o = host;
  }

  /** Who hears that a member's thread died; members are not restarted one by one. */
  onExit(handler: (record: InstanceRecord, detail: string) => void): void {
    this.#exit = handler;
  }

  /** Tells the group that a member's thread died. */
  exited(record: InstanceRecord, detail: string): void {
    this.#exit?.(record, detail);
  }

  /** The record a member would have; throws if its function, class or name is not available. */
  async prepare(fn: string, request: CreateInstanceRequest, group: string): Promise<InstanceRecord> {
    if (request.name !== undefined && this.#o.instances.idNamed(fn, request.name) !== undefined) {
      throw new WispError('INVALID_REQUEST', `function "${fn}" already has an instance named "${request.name}"`);
    }
    // Fresh: in a cluster the function may have been deployed through another node a moment ago.
    const version = await this.#o.registry.resolveFresh(fn);
    return { ...newInstanceRecord(version, request, this.#o.defaults, this.#o.clock.now(), this.#o.nodeId), group, idleSuspendMs: null };
  }

  /** Starts a member on a reservation made for it (from its checkpoint if it has one). */
  async start(record: InstanceRecord, reservation: Reservation): Promise<void> {
    const live = this.#o.instances.find(record.id) ?? { record, timeoutMs: 0, suspending: false };
    await this.#o.launch(live, reservation);
    record.status = 'running';
    record.failure = null;
    record.updatedAt = this.#o.clock.now();
    this.#o.instances.adopt(record, live);
  }

  /** Checkpoints a running member without touching its record; resolves to the new fields. */
  checkpoint(id: string): Promise<Pick<InstanceRecord, 'checkpoint' | 'checkpointedAt'>> {
    const live = this.#o.instances.get(id);
    runningThread(live);
    return this.#o.checkpoint(live);
  }

  stop(id: string): Promise<void> {
    const live = this.#o.instances.find(id);
    this.#o.sockets.closeAll(id, CLOSE.groupStopped);
    return live ? stopThread(live) : Promise.resolve();
  }

  forget(id: string): void {
    const live = this.#o.instances.find(id);
    if (live) this.#o.instances.forget(live);
  }

  /** The member's live record, which its group updates and saves with the group. */
  record(id: string): InstanceRecord {
    return this.#o.instances.get(id).record;
  }
}
