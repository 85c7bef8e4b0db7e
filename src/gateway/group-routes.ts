// Groups: /v1/groups[/{name}[/suspend|/resume]].
import type { FastifyInstance } from 'fastify';
import type { CreateGroupRequest } from '../groups/group-manager.js';
import { waitForGroup } from '../groups/group-wait.js';
import { useJsonParser } from './json-body.js';
import { requestSchemas } from './request-schemas.js';
import type { Services } from './services.js';

// As openapi.yaml's GroupName.
const nameParams = { type: 'object', properties: { name: { type: 'string', pattern: '^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$' } }, required: ['name'] } as const;

type NameParams = { Params: { name: string } };

export async function groupRoutes(app: FastifyInstance, { groups, config, invocations }: Services): Promise<void> {
  useJsonParser(app);

  app.post<{ Body: CreateGroupRequest }>('/v1/groups', { schema: requestSchemas('/v1/groups', 'post') }, async (request, reply) => {
    const group = await groups.create(request.body);
    reply.header('location', `/v1/groups/${group.name}`);
    return reply.code(201).send(group);
  });

  app.get('/v1/groups', async () => ({ groups: await groups.list() }));
  app.get<NameParams & { Querystring: { wait?: number } }>(
    '/v1/groups/:name',
    { schema: { params: nameParams, querystring: { type: 'object', properties: { wait: { type: 'number', minimum: 0, maximum: config.invocations.maxWaitSeconds } }, additionalProperties: false } } },
    async (request, reply) => {
      const { wait } = request.query;
      if (!wait) return groups.get(request.params.name);
      // A shutdown ends the wait, as it ends invocation long-polls; so does a client that went.
      const gone = new AbortController();
      // The response's close: the request's fires once its (empty) body has been read.
      reply.raw.once('close', () => gone.abort());
      return waitForGroup((name) => groups.get(name), request.params.name, wait, AbortSignal.any([invocations.stopWaiting, gone.signal]));
    },
  );

  app.delete<NameParams>('/v1/groups/:name', { schema: { params: nameParams } }, async (request, reply) => {
    await groups.delete(request.params.name);
    return reply.code(204).send();
  });

  app.post<NameParams>('/v1/groups/:name/suspend', { schema: { params: nameParams } }, async (request) => groups.suspend(request.params.name));
  app.post<NameParams>('/v1/groups/:name/resume', { schema: { params: nameParams } }, async (request) => groups.resume(request.params.name));
}
