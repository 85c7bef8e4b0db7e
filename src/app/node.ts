// This node: the resources it offers, its membership of the cluster when the store is one several
// nodes share (Redis), else a cluster of one, and the sync of what it caches with the other nodes.
import { aloneCacheSync, BusCacheSync, type CacheSync, type CachedState } from '../cluster/cache-sync.js';
import { MemberNode, SingleNode, type ClusterNode } from '../cluster/cluster-node.js';
import { nodeIdOf } from '../cluster/node-identity.js';
import type { FunctionEnv } from '../registry/function-env.js';
import type { Registry } from '../registry/registry.js';
import { NodeResources } from '../scheduler/node-resources.js';
import type { Triggers } from '../triggers/triggers.js';
import type { AppContext } from './context.js';

/** The node id of a single Wisp (cluster mode names its nodes). */
const LOCAL_NODE = 'local';

/** The node's resources, and its membership, which reports them with `instancesHeld` (how many instances hold some). */
export function createNode(ctx: AppContext, instancesHeld: () => number): { resources: NodeResources; cluster: ClusterNode } {
  const { config, stores, log } = ctx;
  const resources = new NodeResources({ cpu: config.node.cpu, memory: config.node.memory, custom: { ...config.node.custom } });
  const report = () => ({ capacity: resources.capacity, allocated: resources.allocated, instances: instancesHeld() });
  const cluster: ClusterNode =
    stores.cluster === null
      ? new SingleNode(LOCAL_NODE, () => ({ ...report(), address: null }))
      : new MemberNode({ ...config.cluster, dataDir: config.dataDir, store: stores.cluster.membership, nodeId: nodeIdOf({ ...config.cluster, port: config.port, dataDir: config.dataDir }), report, log });
  return { resources, cluster };
}

/** What the other nodes' changes make this node read again: functions, secrets, triggers (built later). */
export interface CachedParts {
  registry: Registry;
  env: FunctionEnv;
  triggers: () => Triggers;
}

export function cacheSync(ctx: AppContext, nodeId: string, { registry, env, triggers }: CachedParts): CacheSync {
  const { stores, log } = ctx;
  const state: CachedState = {
    refreshFunction: (name) => registry.refresh(name),
    refreshEnv: () => env.load(),
    refreshTrigger: (id) => triggers().refresh(id),
    reloadAll: async () => {
      await registry.load();
      await env.load();
    },
  };
  return stores.cluster === null ? aloneCacheSync : new BusCacheSync(stores.cluster.bus, nodeId, state, log);
}
