// Which instances this node holds in the cluster, at which epoch: it claims them (recover at a
// start, adopt when their owner is gone), answers who holds one (ownerOf, holds), and lets go of
// them when another node claimed one (a write refused as STALE_OWNER) or when this node lost its
// cluster lease (dropAll). Starting, checkpointing and stopping an instance stay with the instance
// manager; this file only decides whether this node may keep what it runs.
import type { KeyedMutex } from '../common/keyed-mutex.js';
import { WispError } from '../errors.js';
import type { InstanceStore } from '../store/instance-store.js';
import type { InstanceRecord, InstanceStatus } from '../store/records.js';
import type { Owner } from './instance-calls.js';
import { fencedWhileStarting, isNodeFenced, TRANSIENT_TAKEOVER } from './instance-errors.js';
import { CLOSE, type InstanceSockets } from './instance-sockets.js';
import { stopThread, type LiveInstance, type LiveInstances } from './live-instances.js';

/** What ownership needs of the instance manager. */
export interface InstanceOwnershipHost {
  store: InstanceStore;
  /** This node: the owner of the instances it claims. */
  nodeId: string;
  /** The instance manager's, under which each instance's mutations run. */
  mutex: KeyedMutex;
  instances: LiveInstances;
  sockets: InstanceSockets;
  /** Starts the instance's thread from its record's checkpoint (and reserves its resources). */
  launch: (live: LiveInstance) => Promise<void>;
  setStatus: (record: InstanceRecord, status: InstanceStatus) => Promise<void>;
  save: (record: InstanceRecord) => Promise<void>;
  log: (message: string) => void;
}

export class InstanceOwnership {
  readonly #o: InstanceOwnershipHost;
  /**
   * Grows each time this node lets go of all it holds (dropAll, on losing its cluster lease): a
   * start that was under way then must not register what it started, which is another node's now.
   */
  #generation = 0;
  /** Instances being created here, stored but not yet registered: not to be taken over meanwhile. */
  readonly #creating = new Set<string>();

  constructor(host: InstanceOwnershipHost) {
    this.#o = host;
  }

  /**
   * Brings back the instances the store holds that `ours` says are this node's: each is claimed
   * (a new epoch: writes of the incarnation before are refused from now on), and those that were
   * running start again.
   */
  async recover(ours: (record: InstanceRecord) => boolean = () => true): Promise<void> {
    const records = (await this.#o.store.list()).filter(ours);
    // Group members are claimed here too; they start with their group (groups/group-manager.ts), all or none.
    await Promise.all(records.map((record) => this.adopt(record.id, record.epoch ?? 0).catch((err: unknown) => this.#o.log(`instance ${record.id} not recovered: ${String(err)}`))));
  }

  /**
   * Takes over an instance whose owner is gone (or an earlier incarnation of this node), if its
   * epoch is still `epoch`: claimed with the next one, then started from its last checkpoint if it
   * was running. Resolves to false when another node claimed it first.
   */
  adopt(id: string, epoch: number): Promise<boolean> {
    return this.#o.mutex.run(id, async () => {
      if (this.#o.instances.find(id) || this.#creating.has(id)) return true;
      const droppedAll = this.fence();
      const record = await this.#o.store.claim(id, epoch, this.#o.nodeId);
      if (!record) return false;
      if (droppedAll()) throw fencedWhileStarting(id);
      const live = this.#o.instances.adopt(record);
      if (record.group !== null || (record.status !== 'running' && record.status !== 'starting')) return true;
      try {
        await this.#o.launch(live);
        await this.#o.setStatus(record, 'running');
      } catch (err) {
        if (isNodeFenced(err)) throw err;
        this.#o.instances.forget(live);
        if (err instanceof WispError && TRANSIENT_TAKEOVER.has(err.code)) {
          // Full here, or the store was out of reach: given back (no owner), for the next sweep
          // to place elsewhere. The instance is not failed for a reason of this node's.
          record.node = null;
          await this.#o.save(record).catch(() => undefined);
          throw err;
        }
        this.#o.log(`instance ${record.id} did not come back: ${(err as Error).message}`);
        record.failure = (err as Error).message;
        this.#o.instances.adopt(record);
        await this.#o.setStatus(record, 'failed').catch(() => undefined);
      }
      return true;
    });
  }

  /** The node and epoch this node holds the instance at; undefined when it does not hold it. */
  ownerOf(id: string): Owner | undefined {
    const live = this.#o.instances.find(id);
    return live && { node: this.#o.nodeId, epoch: live.record.epoch ?? 0 };
  }

  /** Whether this node holds the instance, at `epoch` when one is given. */
  holds(id: string, epoch?: number): boolean {
    const live = this.#o.instances.find(id);
    return live !== undefined && (epoch === undefined || (live.record.epoch ?? 0) === epoch);
  }

  /**
   * This node lost its cluster lease: its instances are about to be claimed elsewhere. Their
   * threads stop now, without a checkpoint (a write now would be refused anyway), and this node
   * forgets them.
   */
  async dropAll(): Promise<void> {
    this.#generation++;
    this.#o.sockets.closeEvery(CLOSE.moved);
    await Promise.all(
      [...this.#o.instances.values()].map(async (live) => {
        this.#o.instances.forget(live);
        await stopThread(live);
      }),
    );
  }

  /**
   * For a start under way: a check that says whether this node has let go of all it holds
   * (dropAll) since, in which case what it started is not its to run.
   */
  fence(): () => boolean {
    const generation = this.#generation;
    return () => this.#generation !== generation;
  }

  /** Runs a new instance's creation: until it is registered, adopt() leaves it to its creator. */
  async creating<T>(id: string, create: () => Promise<T>): Promise<T> {
    this.#creating.add(id);
    try {
      return await create();
    } finally {
      this.#creating.delete(id);
    }
  }

  /** Runs a write of the instance's record; when another node claimed it since, this node lets go of it. */
  async asOwner(id: string, write: () => Promise<void>): Promise<void> {
    try {
      await write();
    } catch (err) {
      if (err instanceof WispError && err.code === 'STALE_OWNER') await this.#lost(id);
      throw err;
    }
  }

  /** Another node claimed the instance: this node's thread of it stops and is forgotten. */
  async #lost(id: string): Promise<void> {
    const live = this.#o.instances.find(id);
    if (!live) return;
    this.#o.log(`instance ${id} is owned by another node now; its thread here stops`);
    this.#o.sockets.closeAll(id, CLOSE.moved);
    this.#o.instances.forget(live);
    await stopThread(live);
  }
}
