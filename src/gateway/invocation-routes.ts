// Asynchronous invocations: submit under a function, then read, wait on, stream, cancel, run
// again, and read the logs and call tree of any invocation by id at /v1/invocations/{id}.
import type { FastifyInstance } from 'fastify';
import type { InvocationQuery } from '../store/invocation-store.js';
import { accepted, submitHeaders } from './async-submit.js';
import { treatEveryBodyAsJson } from './json-body.js';
import { runFunctionSchema, type RunFunctionRoute } from './invoke-routes.js';
import { checkFunctionNames } from './name-check.js';
import { requestSchemas } from './request-schemas.js';
import type { Services } from './services.js';
import { streamInvocationEvents } from './invocation-events-stream.js';
import { uuidParams as idParams, type IdParams } from './uuid-params.js';


export async function invocationRoutes(app: FastifyInstance, { invocations, config }: Services): Promise<void> {
  treatEveryBodyAsJson(app);
  checkFunctionNames(app);

  app.post<RunFunctionRoute>('/v1/functions/:name/invocations', { schema: runFunctionSchema }, async (request, reply) => {
    const result = await invocations.submit({
      function: request.params.name,
      input: request.body ?? null,
      ...(request.query.version === undefined ? {} : { version: request.query.version }),
      ...submitHeaders(request),
    });
    return accepted(reply, result);
  });

  app.get<{ Querystring: Omit<InvocationQuery, 'limit'> & { limit?: number } }>(
    '/v1/invocations',
    {
      schema: requestSchemas('/v1/invocations', 'get'),
    },
    async (request) => ({ invocations: await invocations.list({ ...request.query, limit: request.query.limit ?? 100 }) }),
  );

  app.get<IdParams & { Querystring: { wait?: number } }>(
    '/v1/invocations/:id',
    {
      schema: {
        params: idParams,
        querystring: requestSchemas('/v1/invocations/{id}', 'get', { query: { wait: { maximum: config.invocations.maxWaitSeconds } } }).querystring,
      },
    },
    async (request) => {
      const waitMs = (request.query.wait ?? 0) * 1000;
      if (waitMs === 0) return invocations.get(request.params.id);
      // A client that hangs up stops the wait.
      const gone = new AbortController();
      request.raw.once('close', () => gone.abort());
      return invocations.wait(request.params.id, waitMs, gone.signal);
    },
  );

  app.delete<IdParams>('/v1/invocations/:id', { schema: { params: idParams } }, async (request, reply) => {
    await invocations.cancel(request.params.id);
    return reply.code(204).send();
  });

  app.post<IdParams>('/v1/invocations/:id/retry', { schema: { params: idParams } }, async (request, reply) => {
    return accepted(reply, { invocation: await invocations.retry(request.params.id), existed: false });
  });

  app.get<IdParams>('/v1/invocations/:id/logs', { schema: { params: idParams } }, async (request) => ({
    logs: (await invocations.logs(request.params.id)).map((entry) => ({ ...entry, time: new Date(entry.time).toISOString() })),
  }));

  app.get<IdParams>('/v1/invocations/:id/tree', { schema: { params: idParams } }, async (request) => invocations.tree(request.params.id));

  app.get<IdParams>('/v1/invocations/:id/events', { schema: { params: idParams } }, async (request, reply) => {
    await streamInvocationEvents(invocations, request.params.id, request, reply);
  });
}
