// Instances whose node is gone are started on live nodes (design §5.7), and a node that lost its
// lease lets go of its own. The reaper of the moment (cluster/membership.ts) sweeps: every
// instance whose owner is not an active node (it died, it left, or nobody ever claimed it) is
// placed on a live node, which claims it with a new epoch and restores it from its last
// checkpoint. A claim is a compare-and-set on the epoch, so a sweep racing another (or the old
// owner coming back) starts each instance once. Group members move with their group: a group
// whose home died is taken over here (groups/group-manager.ts), and its home moves its members.
import type { ClusterNode } from '../cluster/cluster-node.js';
import { placeInstance } from '../cluster/placement.js';
import type { Peers } from '../cluster/peers.js';
import type { NodeResources } from '../scheduler/node-resources.js';
import type { InstanceStore } from '../store/instance-store.js';
import type { InstanceRecord } from '../store/records.js';
import type { InstanceManager } from './instance-manager.js';
import { INSTANCE_OPS_PATH } from './instance-peers.js';

export interface InstanceFailoverOptions {
  cluster: ClusterNode;
  peers: Peers;
  host: InstanceManager;
  store: InstanceStore;
  resources: NodeResources;
  log: (message: string) => void;
  /** After this node let go of its instances (fenced): its groups are no longer its to run. */
  droppedAll?: () => void;
  /** After this node took back its instances (a rejoin, a delayed start): its groups start again. */
  tookBack?: () => Promise<void>;
  /**
   * In a sweep: groups whose home is not an active node are taken over. `activeNodes` is to be
   * read after the groups are listed (see sweepNow).
   */
  adoptGroups?: (activeNodes: () => Promise<ReadonlySet<string>>) => Promise<void>;
}

/** How many instances one sweep starts at once. */
const PARALLEL_ADOPTIONS = 8;
/** A sweep with nothing newly dead still runs every this many heartbeats, for what an interrupted one left. */
const SWEEP_EVERY_BEATS = 5;

export class InstanceFailover {
  readonly #o: InstanceFailoverOptions;
  #sweeping = false;
  #sweepAgain = false;
  #beats = 0;
  #renewals = 0;

  constructor(options: InstanceFailoverOptions) {
    this.#o = options;
    const { cluster, host, log } = options;
    cluster.listen({
      fenced: () => {
        void host.dropAll().catch((err: unknown) => log(`cannot stop this node's instances after it was fenced: ${String(err)}`));
        options.droppedAll?.();
      },
      joined: (_incarnation, waitMs) => void this.takeBackOwn(waitMs),
      reaped: () => this.sweep(),
      reaping: () => {
        if (++this.#beats % SWEEP_EVERY_BEATS === 0) this.sweep();
      },
      // A claim whose answer was lost leaves an instance this node owns and does not run: found here.
      renewed: () => {
        if (++this.#renewals % SWEEP_EVERY_BEATS === 0) void this.#runOwn();
      },
    });
  }

  /**
   * Claims again, after `waitMs` (an earlier incarnation may hold them until then), the instances
   * the directory says are this node's, and then starts its groups among them.
   */
  async takeBackOwn(waitMs: number): Promise<void> {
    // The incarnation this take-back is for: if the node fences (and rejoins) meanwhile, what is
    // left of it stops, and the take-back of the next incarnation does the work. Going on would
    // start groups on a node that holds no lease, which then stay known here, not running, and
    // are skipped by the next take-back (the fence-and-rejoin test hung on it under load).
    const owner = this.#o.cluster.owner;
    const current = () => this.#o.cluster.holdsLease() && this.#o.cluster.owner === owner;
    if (waitMs > 0) await new Promise((resolve) => setTimeout(resolve, waitMs).unref());
    if (!current()) return;
    const self = this.#o.cluster.nodeId;
    await this.#o.host.recover((record) => record.node === self).catch((err: unknown) => this.#o.log(`cannot take back this node's instances: ${String(err)}`));
    if (!current()) return;
    await this.#o.tookBack?.().catch((err: unknown) => this.#o.log(`cannot take back this node's groups: ${String(err)}`));
  }

  /** Starts any standalone instance this node owns and does not run (group members start with their group). */
  async #runOwn(): Promise<void> {
    const self = this.#o.cluster.nodeId;
    await this.#o.host.recover((record) => record.node === self && record.group === null && !this.#o.host.holds(record.id)).catch((err: unknown) => this.#o.log(`cannot check this node's instances: ${String(err)}`));
  }

  /** Starts a sweep, or one more after the one under way. */
  sweep(): void {
    if (this.#sweeping) {
      this.#sweepAgain = true;
      return;
    }
    this.#sweeping = true;
    this.sweepNow()
      .catch((err: unknown) => this.#o.log(`the sweep for instances of dead nodes failed: ${String(err)}`))
      .finally(() => {
        this.#sweeping = false;
        if (this.#sweepAgain) {
          this.#sweepAgain = false;
          this.sweep();
        }
      });
  }

  /** Places every instance without a live owner on a live node. */
  async sweepNow(): Promise<void> {
    if (!this.#o.cluster.holdsLease()) return;
    await this.#o.adoptGroups?.(async () => (await this.#liveNodes()).active).catch((err: unknown) => this.#o.log(`cannot take over the groups of dead nodes: ${String(err)}`));
    const records = await this.#o.store.list();
    // Who is alive is read after what they own: a node registers before it writes itself as an
    // owner, so a view read later knows every owner in the list. A view read before could miss a
    // node that joined meanwhile and take its brand-new instance away from it.
    const { active, placeable } = await this.#liveNodes();
    const orphans = records.filter((record) => record.group === null && !(record.node && active.has(record.node)));
    if (orphans.length === 0) return;
    const self = this.#o.cluster.nodeId;
    // Each placement counts what the ones before it took, so that a sweep spreads what it moves.
    const candidates = placeable
      .filter((node) => node.id !== self)
      .map((node) => ({ id: node.id, capacity: node.capacity, allocated: { ...node.allocated, custom: { ...node.allocated.custom } } }));
    candidates.push({ id: self, capacity: this.#o.resources.capacity, allocated: this.#o.resources.allocated });
    const queue = [...orphans];
    const work = async () => {
      for (let record = queue.shift(); record; record = queue.shift()) await this.#move(record, candidates);
    };
    await Promise.all(Array.from({ length: Math.min(PARALLEL_ADOPTIONS, queue.length) }, work));
  }

  async #liveNodes(): Promise<{ active: ReadonlySet<string>; placeable: Awaited<ReturnType<Peers['nodes']>>['placeable'] }> {
    const { nodes, placeable } = await this.#o.peers.nodes();
    return { active: new Set(nodes.filter((node) => node.state === 'active').map((node) => node.id)), placeable };
  }

  async #move(record: InstanceRecord, candidates: { id: string; capacity: NodeResources['capacity']; allocated: NodeResources['capacity'] }[]): Promise<void> {
    const self = this.#o.cluster.nodeId;
    // Only a running instance takes resources where it lands; the others only change owner.
    const takes = record.status === 'running' || record.status === 'starting' ? record.resources : { cpu: 0, memory: 0, custom: {} };
    const placement = placeInstance(candidates, takes, self);
    if (!placement.ok) {
      this.#o.log(`instance ${record.id} of a dead node has no node with room to start on; it waits for one`);
      return;
    }
    const epoch = record.epoch ?? 0;
    for (const node of placement.order) {
      try {
        const adopted = node === self ? await this.#o.host.adopt(record.id, epoch) : await this.#o.peers.post<boolean>(node, INSTANCE_OPS_PATH, { op: 'adopt', id: record.id, epoch }, 60_000);
        if (adopted) {
          const chosen = candidates.find((c) => c.id === node)!;
          chosen.allocated.cpu += takes.cpu;
          chosen.allocated.memory += takes.memory;
          this.#o.log(`instance ${record.id} of node ${record.node ?? '(none)'} now runs on node ${node}`);
        }
        return;
      } catch (err) {
        this.#o.log(`node ${node} could not take instance ${record.id}: ${String(err)}`);
      }
    }
  }
}
