// Stateful instances: create under a function, then call, inspect, suspend, resume and delete
// by handle id at /v1/instances/{id}.
import type { FastifyInstance } from 'fastify';
import { timeOrderedId } from '../common/time-ordered-id.js';
import { WispError } from '../errors.js';
import type { CreateInstanceRequest, InstanceFilter } from '../instances/instance-manager.js';
import { accepted, submitHeaders } from './async-submit.js';
import { treatEveryBodyAsJson } from './json-body.js';
import { checkFunctionNames } from './name-check.js';
import { INVOCATION_ID_HEADER } from './invoke-routes.js';
import { requestSchemas } from './request-schemas.js';
import type { Services } from './services.js';

export const idParams = {
  type: 'object',
  properties: { id: { type: 'string', pattern: '^ins_[0-9a-f]{20}$' } },
  required: ['id'],
} as const;

const createSchema = {
  params: { type: 'object', properties: { name: { type: 'string' } }, required: ['name'] },
  ...requestSchemas('/v1/functions/{name}/instances', 'post'),
} as const;

type IdParams = { Params: { id: string } };

export const NODE_HEADER = 'wisp-instance-node';
export const EPOCH_HEADER = 'wisp-instance-epoch';

export async function instanceRoutes(app: FastifyInstance, { instances, invocations }: Services): Promise<void> {
  treatEveryBodyAsJson(app);
  checkFunctionNames(app);

  app.post<{ Params: { name: string }; Body: CreateInstanceRequest | null }>('/v1/functions/:name/instances', { schema: createSchema }, async (request, reply) => {
    // The constructor's run is recorded like a synchronous call: its console output is at
    // /v1/invocations/{id}/logs. An existing instance (get-or-create) ran no constructor.
    const invocationId = timeOrderedId();
    reply.header(INVOCATION_ID_HEADER, invocationId);
    const { created, instance } = await instances.create(request.params.name, request.body ?? {}, invocationId);
    if (!created) reply.removeHeader(INVOCATION_ID_HEADER);
    reply.header('location', `/v1/instances/${instance.id}`);
    return reply.code(created ? 201 : 200).send(instance);
  });

  app.get<{ Querystring: InstanceFilter }>(
    '/v1/instances',
    {
      schema: requestSchemas('/v1/instances', 'get'),
    },
    async (request) => ({ instances: await instances.list(request.query) }),
  );

  app.get<IdParams>('/v1/instances/:id', { schema: { params: idParams } }, async (request) => instances.get(request.params.id));

  app.delete<IdParams>('/v1/instances/:id', { schema: { params: idParams } }, async (request, reply) => {
    await instances.delete(request.params.id);
    return reply.code(204).send();
  });

  app.post<IdParams>('/v1/instances/:id/suspend', { schema: { params: idParams } }, async (request) => instances.suspend(request.params.id));
  app.post<IdParams>('/v1/instances/:id/resume', { schema: { params: idParams } }, async (request) => instances.resume(request.params.id));

  app.post<{ Params: { id: string; method: string }; Querystring: { async?: boolean }; Body: unknown }>(
    '/v1/instances/:id/methods/:method',
    {
      schema: {
        params: { type: 'object', properties: { id: idParams.properties.id, method: { type: 'string', maxLength: 256 } }, required: ['id', 'method'] },
        // The body is checked below, to say "a JSON array of the arguments" rather than Ajv's words.
        querystring: requestSchemas('/v1/instances/{id}/methods/{method}', 'post').querystring,
      },
    },
    async (request, reply) => {
      const args = request.body ?? [];
      if (!Array.isArray(args)) {
        throw new WispError('INVALID_REQUEST', `the body must be a JSON array of the method's arguments, e.g. [1, "two"]; got ${typeof args}`);
      }
      const { id, method } = request.params;
      if (request.query.async) {
        return accepted(reply, await invocations.submit({ function: '', instance: { id, method }, input: args, ...submitHeaders(request) }));
      }
      const invocationId = timeOrderedId();
      reply.header(INVOCATION_ID_HEADER, invocationId);
      const { json, owner } = await instances.callRecorded(id, method, args, invocationId);
      // Which node answered, at which epoch of its ownership: two copies of one instance never both answer.
      if (owner) reply.header(NODE_HEADER, owner.node).header(EPOCH_HEADER, String(owner.epoch));
      return reply.type('application/json').send(json);
    },
  );
}
