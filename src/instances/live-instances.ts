// The directory of the instances this node knows, by id and by name, each with its thread and
// reservation while it runs. The instance manager decides what goes in and out; this file keeps
// the two indexes in step, so that a name never outlives its instance.
import { WispError } from '../errors.js';
import type { InstanceThread } from '../runtime/instance-thread.js';
import type { CheckpointGate } from './checkpoint-gate.js';
import type { Reservation } from '../scheduler/node-resources.js';
import type { InstanceRecord } from '../store/records.js';
import { nameKey } from './instance-record.js';

export interface LiveInstance {
  record: InstanceRecord;
  thread?: InstanceThread;
  reservation?: Reservation;
  /** The function's timeoutMs, which bounds each method call. */
  timeoutMs: number;
  /** Set while a suspend takes its checkpoint: new calls are refused, queued ones still run. */
  suspending: boolean;
  /** Takes the checkpoints of an instance that asked for them after calls or periodically (checkpoint-gate.ts). */
  gate?: CheckpointGate;
  /** The timer of `checkpointEveryMs`. */
  periodic?: NodeJS.Timeout;
  /** A call ran since the last checkpoint. */
  dirty?: boolean;
  /** Set while it hibernates, or wakes: a call that comes meanwhile waits for that to end. */
  hibernating?: boolean;
  waking?: boolean;
  /** When its last call or socket event ended, and the timer that hibernates it (idle-watch.ts). */
  lastActiveAt?: number;
  idleTimer?: NodeJS.Timeout | undefined;
}

export class LiveInstances {
  readonly #byId = new Map<string, LiveInstance>();
  readonly #byName = new Map<string, string>();

  /** The instance with this id; throws INSTANCE_NOT_FOUND if there is none. */
  get(id: string): LiveInstance {
    const live = this.#byId.get(id);
    if (!live) throw new WispError('INSTANCE_NOT_FOUND', `no instance with id "${id}"`);
    return live;
  }

  /** The instance with this id, for what only one outside a group may do: its group does it. */
  standalone(id: string, action: string): LiveInstance {
    const live = this.get(id);
    if (live.record.group !== null) {
      throw new WispError('INSTANCE_IN_GROUP', `instance ${id} belongs to group "${live.record.group}"; ${action} the group instead (/v1/groups/${live.record.group})`);
    }
    return live;
  }

  find(id: string): LiveInstance | undefined {
    return this.#byId.get(id);
  }

  /** The id of the function's instance with this name, if it has one. */
  idNamed(fn: string, name: string): string | undefined {
    return this.#byName.get(nameKey(fn, name));
  }

  values(): IterableIterator<LiveInstance> {
    return this.#byId.values();
  }

  adopt(record: InstanceRecord, live: LiveInstance = { record, timeoutMs: 0, suspending: false }): LiveInstance {
    this.#byId.set(record.id, live);
    if (record.name !== null) this.#byName.set(nameKey(record.function, record.name), record.id);
    return live;
  }

  forget(live: LiveInstance): void {
    this.#byId.delete(live.record.id);
    if (live.record.name !== null) this.#byName.delete(nameKey(live.record.function, live.record.name));
  }
}

/** The instance's thread, to call or checkpoint; throws why there is none to use. */
export function runningThread(live: LiveInstance): InstanceThread {
  const { record } = live;
  if (record.status === 'suspended' || live.suspending) {
    throw new WispError('INSTANCE_SUSPENDED', `instance ${record.id} is suspended; resume it with POST /v1/instances/${record.id}/resume`);
  }
  if (!live.thread) {
    const why = record.status === 'failed' ? `it failed${record.failure ? ` (${record.failure})` : ''} and is not restarted` : 'it is restarting';
    throw new WispError('INSTANCE_UNAVAILABLE', `instance ${record.id} is not running: ${why}`, { retryAfterSeconds: 1 });
  }
  return live.thread;
}

/** Stops the instance's thread, if any, and gives its reservation back. */
export async function stopThread(live: LiveInstance): Promise<void> {
  const { thread, reservation } = live;
  clearInterval(live.periodic);
  live.periodic = undefined;
  clearTimeout(live.idleTimer);
  live.idleTimer = undefined;
  live.thread = undefined;
  live.reservation = undefined;
  reservation?.release();
  await thread?.terminate();
}
