// Raw HTTP: ANY /fn/{name} and /fn/{name}/*. A fetch handler gets a standard Request and its
// Response goes back as is; a JSON handler gets the body (parsed when it is JSON) as its input.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { timeOrderedId } from '../common/time-ordered-id.js';
import type { WireRequest } from '../runtime/protocol.js';
import { INVOCATION_ID_HEADER } from './invoke-routes.js';
import { JSON_TYPE, mediaTypeOf, parseJson } from './json-body.js';
import { checkFunctionNames } from './name-check.js';
import type { Services } from './services.js';

// Set by Node's HTTP server from the body it sends; copying the function's values would lie.
const HOP_BY_HOP = new Set(['content-length', 'transfer-encoding', 'connection', 'keep-alive']);
const FORBIDDEN_FETCH_METHODS = new Set(['CONNECT', 'TRACE', 'TRACK']);

function toWireRequest(request: FastifyRequest): WireRequest {
  const headers: [string, string][] = [];
  for (const [name, value] of Object.entries(request.headers)) {
    if (value === undefined) continue;
    headers.push([name, Array.isArray(value) ? value.join(', ') : value]);
  }
  const body = request.body instanceof Buffer && request.body.byteLength > 0 ? new Uint8Array(request.body) : null;
  return { method: request.method, url: `${request.protocol}://${request.host}${request.url}`, headers, body };
}

function jsonInputOf(request: FastifyRequest): unknown {
  const body = request.body instanceof Buffer ? request.body : undefined;
  if (!body || body.byteLength === 0) return null;
  return JSON_TYPE.test(mediaTypeOf(request)) ? parseJson(body.toString('utf8')) : body.toString('utf8');
}

export async function rawHttpRoutes(app: FastifyInstance, { invoker, config }: Services): Promise<void> {
  // Any content type, as raw bytes: the function decides what the body means.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: config.limits.requestBodyBytes }, (_request, body, done) => done(null, body));
  checkFunctionNames(app);

  const handle = async (request: FastifyRequest<{ Params: { name: string } }>, reply: FastifyReply) => {
    const invocationId = timeOrderedId();
    reply.header(INVOCATION_ID_HEADER, invocationId);
    const result = await invoker.serveHttp(request.params.name, toWireRequest(request), () => jsonInputOf(request), invocationId);
    if (result.kind === 'json') return reply.type('application/json').send(result.json);
    const { status, headers, body } = result.response;
    reply.code(status);
    for (const [name, value] of headers) {
      if (!HOP_BY_HOP.has(name)) reply.header(name, value);
    }
    return reply.send(Buffer.from(body.buffer, body.byteOffset, body.byteLength));
  };

  // A fetch Request cannot carry CONNECT, TRACE or TRACK (the Fetch standard forbids them):
  // those get 405 with the Allow list instead of a function error the function never caused.
  const method = app.supportedMethods.filter((m) => !FORBIDDEN_FETCH_METHODS.has(m));
  app.route({ method, url: '/fn/:name', handler: handle });
  app.route({ method, url: '/fn/:name/*', handler: handle });
}
