// What every route that accepts an asynchronous invocation shares: the Idempotency-Key and
// X-Callback-Url headers, and the 202 answer with a Location.
import type { FastifyReply, FastifyRequest } from 'fastify';
import { WispError } from '../errors.js';
import type { SubmitRequest } from '../invocations/invocations.js';
import type { InvocationView } from '../invocations/invocation-record.js';

const KEY_PATTERN = /^[\x21-\x7e]{1,255}$/;

/** The submit options the request's headers carry, checked. */
export function submitHeaders(request: FastifyRequest): Pick<SubmitRequest, 'idempotencyKey' | 'callbackUrl'> {
  const key = request.headers['idempotency-key'];
  const callback = request.headers['x-callback-url'];
  const out: Pick<SubmitRequest, 'idempotencyKey' | 'callbackUrl'> = {};
  if (key !== undefined) {
    if (typeof key !== 'string' || !KEY_PATTERN.test(key)) {
      throw new WispError('INVALID_REQUEST', 'Idempotency-Key must be 1 to 255 printable ASCII characters without spaces, sent once');
    }
    out.idempotencyKey = key;
  }
  if (callback !== undefined) {
    let url: URL | undefined;
    try {
      url = new URL(String(callback));
    } catch {
      url = undefined;
    }
    if (typeof callback !== 'string' || !url || (url.protocol !== 'http:' && url.protocol !== 'https:')) {
      throw new WispError('INVALID_REQUEST', `X-Callback-Url must be one absolute http:// or https:// URL; got "${String(callback)}"`);
    }
    out.callbackUrl = url.href;
  }
  return out;
}

/** How a submission was taken: stored now, an idempotent replay, or an equal pending one reused. */
export interface SubmitOutcome {
  existed: boolean;
  reused?: true;
}

/**
 * Where to find an accepted invocation: 202, or 200 with `Reused: true` when the function's
 * concurrencyControl gave the caller an equal invocation already pending; a replayed
 * idempotent submit says so.
 */
export function acceptedHeaders(reply: FastifyReply, invocationId: string, { existed, reused }: SubmitOutcome): FastifyReply {
  reply.header('location', `/v1/invocations/${invocationId}`);
  reply.header('x-invocation-id', invocationId);
  if (existed) reply.header('idempotent-replayed', 'true');
  if (reused) reply.header('reused', 'true');
  return reply.code(reused ? 200 : 202);
}

/** {id, status} with acceptedHeaders. */
export function accepted(reply: FastifyReply, outcome: SubmitOutcome & { invocation: InvocationView }): FastifyReply {
  return acceptedHeaders(reply, outcome.invocation.id, outcome).send({ id: outcome.invocation.id, status: outcome.invocation.status });
}
