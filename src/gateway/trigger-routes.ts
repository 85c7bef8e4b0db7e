// Triggers under a function (webhook and cron), and the endpoint senders deliver to: /hooks/{id}. A delivery
// is authenticated by its signature over the raw bytes, so that route parses nothing itself.
import type { FastifyInstance } from 'fastify';
import type { CreateTriggerRequest } from '../triggers/triggers.js';
import { acceptedHeaders } from './async-submit.js';
import { treatEveryBodyAsJson } from './json-body.js';
import { checkFunctionNames } from './name-check.js';
import { requestSchemas } from './request-schemas.js';
import type { Services } from './services.js';

const TRIGGER_ID = { type: 'string', pattern: '^trg_[0-9a-f]{20}$' } as const;
const fnParams = { type: 'object', properties: { name: { type: 'string' } }, required: ['name'] } as const;
const triggerParams = { type: 'object', properties: { name: { type: 'string' }, id: TRIGGER_ID }, required: ['name', 'id'] } as const;
type FnParams = { Params: { name: string } };
type TriggerParams = { Params: { name: string; id: string } };

export async function triggerRoutes(app: FastifyInstance, { triggers }: Services): Promise<void> {
  await app.register(async (api) => {
    treatEveryBodyAsJson(api);
    checkFunctionNames(api);
    api.post<FnParams & { Body: CreateTriggerRequest }>('/v1/functions/:name/triggers', { schema: { params: fnParams, ...requestSchemas('/v1/functions/{name}/triggers', 'post') } }, async (request, reply) => {
      const trigger = await triggers.create(request.params.name, request.body);
      reply.header('location', `/v1/functions/${request.params.name}/triggers/${trigger.id}`);
      return reply.code(201).send(trigger);
    });
    api.get<FnParams>('/v1/functions/:name/triggers', { schema: { params: fnParams } }, async (request) => ({ triggers: await triggers.list(request.params.name) }));
    api.get<TriggerParams>('/v1/functions/:name/triggers/:id', { schema: { params: triggerParams } }, async (request) =>
      triggers.get(request.params.name, request.params.id),
    );
    api.delete<TriggerParams>('/v1/functions/:name/triggers/:id', { schema: { params: triggerParams } }, async (request, reply) => {
      await triggers.delete(request.params.name, request.params.id);
      return reply.code(204).send();
    });
    api.post<TriggerParams & { Body: { secret: string; overlapSeconds?: number } }>(
      '/v1/functions/:name/triggers/:id/rotate',
      {
        schema: { params: triggerParams, ...requestSchemas('/v1/functions/{name}/triggers/{id}/rotate', 'post') },
      },
      async (request) => {
        const { secret: next, overlapSeconds } = request.body;
        return triggers.rotate(request.params.name, request.params.id, next, overlapSeconds === undefined ? undefined : overlapSeconds * 1000);
      },
    );
  });

  await app.register(async (hooks) => {
    // The raw bytes, whatever the content type: the signature is over exactly these.
    hooks.removeAllContentTypeParsers();
    hooks.addContentTypeParser('*', { parseAs: 'buffer' }, (_request, body, done) => done(null, body));
    hooks.post<{ Params: { id: string }; Body: Buffer | undefined }>(
      '/hooks/:id',
      { schema: { params: { type: 'object', properties: { id: TRIGGER_ID }, required: ['id'] } } },
      async (request, reply) => {
        const { invocationId, ...outcome } = await triggers.deliver(request.params.id, request.body ?? Buffer.alloc(0), request.headers);
        return acceptedHeaders(reply, invocationId, outcome).send({ invocationId });
      },
    );
  });
}
