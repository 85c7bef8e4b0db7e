// Batches: POST /v1/functions/{name}/batches maps the function over many inputs, sent as
// {"inputs": [...]} or as NDJSON (one JSON input per line); /v1/batches/{id} reads one (counts,
// results page by page, or a long-poll until every member is final), streams its members'
// outcomes as they finish, and cancels the rest.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { WispError } from '../errors.js';
import type { BatchView } from '../invocations/batch-record.js';
import { streamBatchEvents } from './batch-events-stream.js';
import { submitHeaders } from './async-submit.js';
import { parseJson, useJsonParser } from './json-body.js';
import { checkFunctionNames } from './name-check.js';
import { requestSchemas } from './request-schemas.js';
import type { Services } from './services.js';
import { uuidParams as idParams, type IdParams } from './uuid-params.js';

const NDJSON_TYPES = ['application/x-ndjson', 'application/jsonl', 'application/json-lines'];

type SubmitRoute = { Params: { name: string }; Querystring: { version?: number }; Body: { inputs: unknown[] } };
type ReadRoute = IdParams & { Querystring: { wait?: number; results?: boolean; limit?: number; cursor?: string } };

/** NDJSON: one input per line, blank lines skipped; read as {inputs} so that one schema checks both forms. */
function parseNdjson(_request: FastifyRequest, body: string | Buffer, done: (err: Error | null, body?: unknown) => void): void {
  const inputs: unknown[] = [];
  const lines = (body as string).split('\n');
  for (let i = 0; i < lines.length; i++) {
    if (lines[i]!.trim() === '') continue;
    try {
      inputs.push(parseJson(lines[i]!));
    } catch (err) {
      return done(new WispError('INVALID_JSON', `line ${i + 1} of the NDJSON body is not valid JSON: ${(err as Error).message.replace(/^the body is not valid JSON: /, '')}`));
    }
  }
  done(null, { inputs });
}

export async function batchRoutes(app: FastifyInstance, { batches, config }: Services): Promise<void> {
  useJsonParser(app);
  app.addContentTypeParser(NDJSON_TYPES, { parseAs: 'string' }, parseNdjson);
  checkFunctionNames(app);
  const maxWait = { wait: { maximum: config.invocations.maxWaitSeconds } };

  app.post<SubmitRoute>(
    '/v1/functions/:name/batches',
    {
      bodyLimit: config.limits.batchBodyBytes,
      schema: { params: { type: 'object', properties: { name: { type: 'string' } }, required: ['name'] }, ...requestSchemas('/v1/functions/{name}/batches', 'post') },
    },
    async (request, reply) => {
      const { batch, existed } = await batches.submit({
        function: request.params.name,
        inputs: request.body.inputs,
        ...(request.query.version === undefined ? {} : { version: request.query.version }),
        ...submitHeaders(request),
      });
      reply.header('location', `/v1/batches/${batch.id}`);
      if (existed) reply.header('idempotent-replayed', 'true');
      return reply.code(202).send({ id: batch.id, size: batch.size, status: batch.status });
    },
  );

  app.get<ReadRoute>('/v1/batches/:id', { schema: { params: idParams, querystring: requestSchemas('/v1/batches/{id}', 'get', { query: maxWait }).querystring } }, async (request) => {
    const { id } = request.params;
    const waitMs = (request.query.wait ?? 0) * 1000;
    const view = waitMs === 0 ? await batches.get(id) : await batches.wait(id, waitMs, clientGone(request));
    if (!request.query.results) return view;
    return { ...view, ...(await batches.results(id, cursorOf(request.query.cursor), request.query.limit ?? 100)) };
  });

  app.delete<IdParams>('/v1/batches/:id', { schema: { params: idParams } }, async (request): Promise<BatchView> => batches.cancel(request.params.id));

  app.get<IdParams>('/v1/batches/:id/events', { schema: { params: idParams } }, async (request, reply: FastifyReply) => {
    await streamBatchEvents(batches, request.params.id, request, reply);
  });
}

/** Aborted when the client hangs up, which ends its long-poll. */
function clientGone(request: FastifyRequest): AbortSignal {
  const gone = new AbortController();
  request.raw.once('close', () => gone.abort());
  return gone.signal;
}

/** A cursor is where the next page starts, as the previous page's nextCursor gave it. */
function cursorOf(cursor: string | undefined): number {
  if (cursor === undefined) return 0;
  if (!/^\d{1,9}$/.test(cursor)) throw new WispError('INVALID_REQUEST', `cursor "${cursor}" is not one this API gave: pass the nextCursor of the page before`);
  return Number(cursor);
}
