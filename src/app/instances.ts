// Stateful instances: the manager of those this node runs, and the routing that puts it in the
// cluster (forwarding to owners, failover of dead nodes' instances; alone, a pass-through).
import type { ClusterNode } from '../cluster/cluster-node.js';
import type { GroupManager } from '../groups/group-manager.js';
import { InstanceManager } from '../instances/instance-manager.js';
import { instanceRouting, type InstanceRouting } from '../instances/instance-routing.js';
import type { CallSummary } from '../invocations/call-summary.js';
import type { FunctionLogFeed } from '../invocations/function-log-feed.js';
import type { FunctionEnv } from '../registry/function-env.js';
import type { Registry } from '../registry/registry.js';
import type { RouteGatewayRequest } from '../runtime/protocol.js';
import type { NodeResources } from '../scheduler/node-resources.js';
import type { AppContext } from './context.js';

export interface InstancesWiring {
  cluster: ClusterNode;
  registry: Registry;
  resources: NodeResources;
  env: FunctionEnv;
  logFeed: FunctionLogFeed;
  /** Serves the calls instance threads make through their ctx (see invocations/gateway-router.ts). */
  route: RouteGatewayRequest;
  /** Puts a synchronous method call or constructor in the synchronous history. */
  recordCall: (call: CallSummary) => void;
  /** The groups this node manages (built later): they follow when it lets go of, or takes back, what it owns. */
  groups: () => GroupManager;
}

export function createInstances(ctx: AppContext, o: InstancesWiring): { host: InstanceManager; routing: InstanceRouting } {
  const { config, stores, clock, log } = ctx;
  const { cluster, registry, resources, env } = o;
  const defaults = { cpu: config.instances.defaultCpu, memory: config.instances.defaultMemory };
  const host = new InstanceManager({
    nodeId: cluster.nodeId,
    registry,
    blobs: stores.blobs,
    store: stores.instances,
    resources,
    defaults,
    startTimeoutMs: config.instances.startTimeoutMs,
    warmThreads: config.instances.warmThreads,
    checkpointTimeoutMs: config.instances.checkpointTimeoutMs,
    checkpointBytes: config.instances.checkpointBytes,
    resultBytes: config.limits.resultBytes,
    logBytes: config.invocations.logBytes,
    memoryCheckIntervalMs: config.functions.memoryCheckIntervalMs,
    secrets: (fn) => env.of(fn),
    log,
    routeRequest: o.route,
    // Synchronous method calls and constructors, with their logs, in the synchronous history.
    record: o.recordCall,
    logFeed: o.logFeed,
    socketBufferBytes: config.instances.socketBufferBytes,
    clock,
  });
  const routing = instanceRouting({
    cluster,
    stores,
    host,
    registry,
    resources,
    defaults,
    defaultTimeoutMs: config.functions.defaultTimeoutMs,
    socketFrameBytes: config.instances.socketFrameBytes,
    log,
    groups: { droppedAll: () => o.groups().dropAll(), tookBack: () => o.groups().recover(), adoptOrphans: (activeNodes) => o.groups().adoptOrphans(activeNodes) },
  });
  return { host, routing };
}
