// Groups: /v1/groups[/{name}[/suspend|/resume]].
import type { FastifyInstance } from 'fastify';
import type { CreateGroupRequest } from '../groups/group-manager.js';
import { instanceNamePattern, resourceSchema } from './instance-routes.js';
import { useJsonParser } from './json-body.js';
import type { Services } from './services.js';

const nameParams = { type: 'object', properties: { name: { type: 'string', pattern: instanceNamePattern } }, required: ['name'] } as const;

const createSchema = {
  body: {
    type: 'object',
    additionalProperties: false,
    required: ['name', 'instances'],
    properties: {
      name: { type: 'string', pattern: instanceNamePattern },
      instances: {
        type: 'array',
        minItems: 1,
        maxItems: 1000,
        items: {
          type: 'object',
          additionalProperties: false,
          required: ['function'],
          properties: {
            function: { type: 'string', pattern: '^[a-z][a-z0-9-]{0,62}$' },
            class: { type: 'string', minLength: 1 },
            args: { type: 'array' },
            name: { type: 'string', pattern: instanceNamePattern },
            resources: resourceSchema,
          },
        },
      },
      policy: {
        type: 'object',
        additionalProperties: false,
        properties: {
          onMemberFailure: { enum: ['fail', 'restart'] },
          maxRestarts: { type: 'integer', minimum: 0, maximum: 1000 },
        },
      },
    },
  },
} as const;

type NameParams = { Params: { name: string } };

export async function groupRoutes(app: FastifyInstance, { groups }: Services): Promise<void> {
  useJsonParser(app);

  app.post<{ Body: CreateGroupRequest }>('/v1/groups', { schema: createSchema }, async (request, reply) => {
    const group = await groups.create(request.body);
    reply.header('location', `/v1/groups/${group.name}`);
    return reply.code(201).send(group);
  });

  app.get('/v1/groups', async () => ({ groups: groups.list() }));
  app.get<NameParams>('/v1/groups/:name', { schema: { params: nameParams } }, async (request) => groups.get(request.params.name));

  app.delete<NameParams>('/v1/groups/:name', { schema: { params: nameParams } }, async (request, reply) => {
    await groups.delete(request.params.name);
    return reply.code(204).send();
  });

  app.post<NameParams>('/v1/groups/:name/suspend', { schema: { params: nameParams } }, async (request) => groups.suspend(request.params.name));
  app.post<NameParams>('/v1/groups/:name/resume', { schema: { params: nameParams } }, async (request) => groups.resume(request.params.name));
}
