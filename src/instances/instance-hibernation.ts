// Hibernation (idleSuspendMs): an instance with no call running and no socket open for that long
// is checkpointed, its thread stopped and its resources released; status `hibernated`. The next
// method call or socket wakes it from that checkpoint, same id, and only waits for the wake-up.
// Unlike a user's suspend, nobody has to resume it. Group members never hibernate one by one.
import type { KeyedMutex } from '../common/keyed-mutex.js';
import type { InstanceThread } from '../runtime/instance-thread.js';
import type { InstanceRecord, InstanceStatus } from '../store/records.js';
import { IdleWatch } from './idle-watch.js';
import type { InstanceSockets } from './instance-sockets.js';
import type { LiveInstance, LiveInstances } from './live-instances.js';
import type { Clock } from '../common/clock.js';

/** What hibernation needs of the instance manager. */
export interface HibernationHost {
  clock: Clock;
  mutex: KeyedMutex;
  instances: LiveInstances;
  sockets: InstanceSockets;
  /** Starts the instance's thread from its record's checkpoint (and reserves its resources), running `whileStarting` meanwhile. */
  launch: (live: LiveInstance, whileStarting: () => Promise<void>) => Promise<void>;
  save: (record: InstanceRecord) => Promise<void>;
  checkpoint: (live: LiveInstance, thread: InstanceThread) => Promise<void>;
  /** Records the instance as `status` and stops its thread (its record changes only if the write succeeds). */
  stopAs: (live: LiveInstance, status: InstanceStatus) => Promise<void>;
  closing: () => boolean;
  log: (message: string) => void;
}

export class Hibernation {
  readonly #o: HibernationHost;
  readonly #idle: IdleWatch;

  constructor(host: HibernationHost) {
    this.#o = host;
    this.#idle = new IdleWatch(host.clock, (live) => this.#hibernate(live));
  }

  /** Something ended on the instance (a call, a socket event, its last socket): idle from now. */
  touch(live: LiveInstance): void {
    this.#idle.touch(live);
  }

  /** Whether the instance is hibernated or going to sleep: a call must wake it first. */
  asleep(live: LiveInstance): boolean {
    return live.hibernating === true || live.waking === true || live.record.status === 'hibernated';
  }

  /** Wakes a hibernated instance, under its mutex (after a hibernation under way ends). */
  wake(live: LiveInstance): Promise<void> {
    return this.#o.mutex.run(live.record.id, () => this.wakeNow(live));
  }

  /** Wakes it, for a caller that holds its mutex already. */
  async wakeNow(live: LiveInstance): Promise<void> {
    const { record } = live;
    if (record.status !== 'hibernated' || this.#o.instances.find(record.id) !== live) return;
    // The durable write (an fsync, or a round trip) happens while the thread boots, not after it.
    let saved = false;
    const saveRunning = async () => {
      record.status = 'running';
      record.updatedAt = this.#o.clock.now();
      await this.#o.save(record);
      saved = true;
    };
    // Its status says running once the write starts; until its thread is up, calls wait (asleep()).
    live.waking = true;
    try {
      await this.#o.launch(live, saveRunning);
    } catch (err) {
      record.status = 'hibernated';
      if (saved) await this.#o.save(record).catch((saveErr: unknown) => this.#o.log(`instance ${record.id}: did not wake, and its record still says running: ${String(saveErr)}`));
      throw err;
    } finally {
      live.waking = false;
    }
  }

  /** Idle for its idleSuspendMs: goes to sleep unless something came meanwhile; a failure leaves it running. */
  #hibernate(live: LiveInstance): void {
    const { record } = live;
    this.#o.mutex
      .run(record.id, async () => {
        // A call or socket event that ended meanwhile armed the timer again: not idle yet.
        if (live.idleTimer || this.#o.closing() || this.#o.instances.find(record.id) !== live || record.status !== 'running') return;
        const thread = live.thread;
        if (!thread || thread.busy || live.suspending || this.#o.sockets.count(record.id) > 0) return;
        // A call that comes from here on waits for this, then wakes the instance.
        live.hibernating = true;
        try {
          await this.#o.checkpoint(live, thread);
          await this.#o.stopAs(live, 'hibernated');
        } catch (err) {
          this.#o.log(`instance ${record.id} did not hibernate: ${(err as Error).message}`);
        } finally {
          live.hibernating = false;
        }
      })
      .catch((err: unknown) => this.#o.log(`instance ${record.id}: hibernation failed: ${String(err)}`));
  }
}
