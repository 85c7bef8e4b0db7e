// Groups of instances: the manager of the groups this node is home to, their members' hosts (this
// node's, and in a cluster the other nodes' too), and the router that sends a group's operations
// to its home.
import type { ClusterNode } from '../cluster/cluster-node.js';
import type { Peers } from '../cluster/peers.js';
import type { Services } from '../gateway/services.js';
import { ClusterMemberHosts, type MemberOp } from '../groups/cluster-member-hosts.js';
import { GroupManager } from '../groups/group-manager.js';
import { runMemberOp } from '../groups/group-ops.js';
import { GroupRouter, type GroupAction } from '../groups/group-router.js';
import { LocalMemberHosts } from '../groups/member-hosts.js';
import type { InstanceManager } from '../instances/instance-manager.js';
import type { NodeResources } from '../scheduler/node-resources.js';
import type { AppContext } from './context.js';

export interface GroupsWiring {
  cluster: ClusterNode;
  host: InstanceManager;
  resources: NodeResources;
  /** The other nodes (a cluster's); null alone. */
  peers: Peers | null;
}

export type GroupServices = Pick<Services, 'groupHost' | 'groups' | 'memberOps'>;

export function createGroups(ctx: AppContext, o: GroupsWiring): GroupServices {
  const { config, stores, clock, log } = ctx;
  const { cluster, host, resources, peers } = o;
  const localMembers = new LocalMemberHosts(cluster.nodeId, host, resources);
  const clusterMembers = peers ? new ClusterMemberHosts({ local: localMembers, cluster, peers, resources, viewAgeMs: config.cluster.heartbeatMs, homeOf: async (group) => (await stores.groups.get(group))?.node ?? null, log }) : null;
  const groups = new GroupManager({
    instances: host,
    hosts: clusterMembers ?? localMembers,
    store: stores.groups,
    log,
    clock,
    ...(clusterMembers ? { elsewhere: (record, detail) => clusterMembers.tellHome(record, detail), loadMember: (id: string) => stores.instances.get(id) } : {}),
  });
  clusterMembers?.watch(
    () => groups.memberNodes(),
    (dead) => groups.nodesDied(dead),
  );
  const groupRouter = new GroupRouter(
    groups,
    stores.groups,
    clusterMembers
      ? {
          self: clusterMembers.self,
          forward: <T>(home: string, action: GroupAction, name: string) => clusterMembers.forward<T>(home, action, name),
          loadMember: (id: string) => stores.instances.get(id),
        }
      : null,
  );
  const memberOps = clusterMembers ? (op: MemberOp) => runMemberOp(op, clusterMembers, localMembers, groups, groupRouter) : null;
  return { groupHost: groups, groups: groupRouter, memberOps };
}
