import type { FunctionLogFeed } from '../invocations/function-log-feed.js';
import type { CacheSync } from '../cluster/cache-sync.js';
import type { MemberOp } from '../groups/cluster-member-hosts.js';
import type { GroupRouter } from '../groups/group-router.js';
import type { ClusterNode } from '../cluster/cluster-node.js';
import type { Config } from '../config.js';
import type { GroupManager } from '../groups/group-manager.js';
import type { InstanceManager } from '../instances/instance-manager.js';
import type { InstanceRouter } from '../instances/instance-router.js';
import type { InstanceRouting } from '../instances/instance-routing.js';
import type { Batches } from '../invocations/batches.js';
import type { Invocations } from '../invocations/invocations.js';
import type { Invoker } from '../invocations/invoker.js';
import type { Triggers } from '../triggers/triggers.js';
import type { Registry } from '../registry/registry.js';
import type { FunctionEnv } from '../registry/function-env.js';
import type { WispMetrics } from '../metrics/wisp-metrics.js';
import type { StatelessPool } from '../runtime/stateless-pool.js';
import type { NodeResources } from '../scheduler/node-resources.js';

/** What the gateway's route plugins call into; built once in app.ts. */
export interface Services {
  config: Config;
  registry: Registry;
  /** Functions' secrets (ctx.env). */
  env: FunctionEnv;
  metrics: WispMetrics;
  invoker: Invoker;
  invocations: Invocations;
  /** Batches of asynchronous invocations (one request, many inputs). */
  batches: Batches;
  /** Each function's call lines, live, for those who follow them. */
  logFeed: FunctionLogFeed;
  triggers: Triggers;
  pool: StatelessPool;
  /** Instances wherever they run (forwarded to their owner in a cluster). */
  instances: InstanceRouter;
  /** The instances this node runs. */
  host: InstanceManager;
  routing: InstanceRouting;
  /** Groups wherever they are managed (sent to their home in a cluster). */
  groups: GroupRouter;
  /** The groups this node manages. */
  groupHost: GroupManager;
  /** What other nodes ask this one about group members (a cluster's; alone, null). */
  memberOps: ((op: MemberOp) => Promise<unknown>) | null;
  resources: NodeResources;
  cluster: ClusterNode;
  sync: CacheSync;
  /** Starts relaying invocation changes, cancels and followed logs between nodes (a cluster's; alone, nothing). */
  startRelay: () => Promise<void>;
  stopRelay: () => void;
}
