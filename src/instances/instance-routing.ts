// Puts the instance router together for how this node runs: alone, a pass-through to its host;
// in a cluster, with peers to forward to and place on, and failover of dead nodes' instances.
import type { ClusterNode } from '../cluster/cluster-node.js';
import { Peers } from '../cluster/peers.js';
import type { Registry } from '../registry/registry.js';
import type { NodeResources } from '../scheduler/node-resources.js';
import type { Stores } from '../store/stores.js';
import { InstanceFailover } from './instance-failover.js';
import type { InstanceManager } from './instance-manager.js';
import { ClusterInstancePeers } from './instance-peers.js';
import { InstanceRouter } from './instance-router.js';

export interface InstanceRouting {
  router: InstanceRouter;
  /** The other nodes (a cluster's); null alone. */
  peers: Peers | null;
  /** Brings back this node's instances at the start, and (in a cluster) those nobody owns. */
  recover(waitMs: number): Promise<void>;
  close(): Promise<void>;
}

export interface InstanceRoutingOptions {
  cluster: ClusterNode;
  stores: Stores;
  host: InstanceManager;
  registry: Registry;
  resources: NodeResources;
  defaults: { cpu: number; memory: number };
  defaultTimeoutMs: number;
  socketFrameBytes: number;
  log: (message: string) => void;
  /** Told when this node let go of, or took back, what it owns (its groups follow). */
  groups: { droppedAll(): void; tookBack(): Promise<void>; adoptOrphans(activeNodes: () => Promise<ReadonlySet<string>>): Promise<void> };
}

export function instanceRouting(o: InstanceRoutingOptions): InstanceRouting {
  const { cluster, stores, host } = o;
  if (stores.cluster === null) {
    return { router: new InstanceRouter(host, stores.instances, null), peers: null, recover: () => host.recover(), close: async () => undefined };
  }
  const peers = new Peers(stores.cluster.membership, () => cluster.secret());
  const instancePeers = new ClusterInstancePeers({ ...o, self: cluster.nodeId, peers, holdsLease: () => cluster.holdsLease(), secret: () => cluster.secret() });
  const failover = new InstanceFailover({ cluster, peers, host, store: stores.instances, resources: o.resources, log: o.log, droppedAll: () => o.groups.droppedAll(), tookBack: () => o.groups.tookBack(), adoptGroups: (activeNodes) => o.groups.adoptOrphans(activeNodes) });
  return {
    router: new InstanceRouter(host, stores.instances, instancePeers),
    peers,
    recover: async (waitMs) => {
      // An earlier incarnation of this node that may still be answering keeps its instances
      // until its lease ends: taken back in the background then (its groups start after).
      if (waitMs > 0) void failover.takeBackOwn(waitMs);
      else await o.host.recover((record) => record.node === cluster.nodeId);
      await failover.sweepNow();
    },
    close: () => peers.close(),
  };
}
