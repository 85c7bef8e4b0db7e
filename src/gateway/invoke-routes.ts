// Synchronous invoke: POST /v1/functions/{name}/invoke. The hot path: no disk, no extra copies.
import type { FastifyInstance } from 'fastify';
import { timeOrderedId } from '../common/time-ordered-id.js';
import { treatEveryBodyAsJson } from './json-body.js';
import { checkFunctionNames } from './name-check.js';
import { requestSchemas } from './request-schemas.js';
import type { Services } from './services.js';

export const INVOCATION_ID_HEADER = 'x-invocation-id';

/** A call to a function, now or queued: its name, and `?version=N` to pick a version. */
export const runFunctionSchema = {
  params: { type: 'object', properties: { name: { type: 'string' } }, required: ['name'] },
  querystring: requestSchemas('/v1/functions/{name}/invoke', 'post').querystring,
} as const;

export type RunFunctionRoute = { Params: { name: string }; Querystring: { version?: number } };

export async function invokeRoutes(app: FastifyInstance, { invoker }: Services): Promise<void> {
  treatEveryBodyAsJson(app);
  checkFunctionNames(app);

  app.post<RunFunctionRoute>('/v1/functions/:name/invoke', { schema: runFunctionSchema }, async (request, reply) => {
    const invocationId = timeOrderedId();
    reply.header(INVOCATION_ID_HEADER, invocationId);
    const json = await invoker.invoke(request.params.name, request.body ?? null, {
      invocationId,
      ...(request.query.version === undefined ? {} : { version: request.query.version }),
      // Answered by an equal call already running (the function's concurrencyControl): its id.
      joined: (runningId) => reply.header(INVOCATION_ID_HEADER, runningId).header('reused', 'true'),
    });
    // Already JSON text from the worker: sent as is, not serialized again.
    return reply.type('application/json').send(json);
  });
}
