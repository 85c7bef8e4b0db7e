// A function's secrets: /v1/functions/{name}/env. Names and times are shown; values never are.
import type { FastifyInstance } from 'fastify';
import { useJsonParser } from './json-body.js';
import { checkFunctionNames } from './name-check.js';
import type { Services } from './services.js';
import { isoTime } from '../common/clock.js';
import type { EnvEntry } from '../store/env-store.js';

/** The API shows when each value was set in ISO, as every other time. */
const envView = (entries: EnvEntry[]) => entries.map((entry) => ({ name: entry.name, updatedAt: isoTime(entry.updatedAt) }));

type NameParams = { Params: { name: string } };
const nameParams = { type: 'object', properties: { name: { type: 'string' } }, required: ['name'] } as const;

export async function envRoutes(app: FastifyInstance, { env }: Services): Promise<void> {
  useJsonParser(app);
  checkFunctionNames(app);

  app.get<NameParams>('/v1/functions/:name/env', { schema: { params: nameParams } }, async (request) => ({ env: envView(await env.entries(request.params.name)) }));

  // Checked in FunctionEnv, so that a bad value is named in the message without being quoted.
  app.patch<NameParams & { Body: unknown }>('/v1/functions/:name/env', { schema: { params: nameParams } }, async (request) => ({
    env: envView(await env.apply(request.params.name, request.body)),
  }));

  app.delete<{ Params: { name: string; key: string } }>(
    '/v1/functions/:name/env/:key',
    { schema: { params: { type: 'object', properties: { name: { type: 'string' }, key: { type: 'string' } }, required: ['name', 'key'] } } },
    async (request, reply) => {
      await env.remove(request.params.name, request.params.key);
      return reply.code(204).send();
    },
  );
}
