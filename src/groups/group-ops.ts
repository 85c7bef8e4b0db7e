// The receiving side of what nodes ask each other about groups (cluster-member-hosts.ts): a
// home's request to start, stop, checkpoint or forget its members here; a member node's word
// that a member died; and a group operation sent to its home by the node a client asked.
import type { ClusterMemberHosts, MemberOp } from './cluster-member-hosts.js';
import type { GroupManager } from './group-manager.js';
import type { GroupRouter } from './group-router.js';
import type { LocalMemberHosts } from './member-hosts.js';

export async function runMemberOp(op: MemberOp, hosts: ClusterMemberHosts, local: LocalMemberHosts, groups: GroupManager, router: GroupRouter): Promise<unknown> {
  switch (op.op) {
    case 'members-start':
      return hosts.startHere(op.group, op.home, op.records);
    case 'members-stop':
      return local.stop(local.self, op.ids);
    case 'members-checkpoint':
      return local.checkpoint(local.self, op.ids);
    case 'members-forget':
      return hosts.forgetHere(op.ids);
    case 'member-died':
      groups.memberDied(op.group, op.id, op.detail);
      return null;
    case 'group':
      return router.answerHere(op.action, op.name);
  }
}
