// The routes nodes of a cluster call on each other (never clients): an operation on an
// instance this node owns, forwarded by the node a client asked, or on group members. Each request is signed with
// the cluster secret (cluster/internal-auth.ts); one that is not is 401 CLUSTER_AUTH_FAILED.
// Every operation is answered 200 with {ok, value} or {ok: false, error}: the sender rebuilds
// the error as it was.
import type { FastifyInstance } from 'fastify';
import { INTERNAL_TYPE, refusal } from '../cluster/internal-auth.js';
import { WispError } from '../errors.js';
import { isMemberOp, type MemberOp } from '../groups/cluster-member-hosts.js';
import { nodeFenced } from '../instances/instance-errors.js';
import { INSTANCE_OPS_PATH } from '../instances/instance-peers.js';
import { runInstanceOp } from '../instances/instance-ops.js';
import type { InstanceOp } from '../instances/instance-router.js';
import { parseJson } from './json-body.js';
import type { Services } from './services.js';

export async function internalRoutes(app: FastifyInstance, { cluster, instances, host, memberOps }: Services): Promise<void> {
  app.addContentTypeParser(INTERNAL_TYPE, { parseAs: 'buffer' }, (_request, body, done) => done(null, body));

  app.post<{ Body: Buffer }>(INSTANCE_OPS_PATH, async (request) => {
    const body = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
    const why = refusal(cluster.secret(), request.headers, 'POST', request.url, body);
    if (why !== null) throw new WispError('CLUSTER_AUTH_FAILED', why);
    const op = parseJson(body.toString('utf8')) as InstanceOp | MemberOp;
    try {
      if (!isMemberOp(op)) return { ok: true, value: await runInstanceOp(op, host, instances, cluster.nodeId) };
      // As for instances: a node without its lease takes nothing on.
      if (!instances.mayAnswer() || !memberOps) throw nodeFenced(`node ${cluster.nodeId} lost its cluster lease and takes no operation until it rejoins`);
      return { ok: true, value: await memberOps(op) };
    } catch (err) {
      if (!(err instanceof WispError)) throw err;
      return { ok: false, error: { code: err.code, message: err.message, extensions: { ...err.extensions } } };
    }
  });
}
