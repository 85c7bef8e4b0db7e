// Every error leaves as RFC 9457 problem details with a stable code from the catalogue.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { catalogue, WispError, type ErrorCode } from '../errors.js';

export const PROBLEM_TYPE = 'application/problem+json';

/** Errors raised by Fastify and its plugins, by their own code, mapped onto the catalogue. */
const FRAMEWORK_CODES: Record<string, ErrorCode> = {
  FST_ERR_CTP_BODY_TOO_LARGE: 'PAYLOAD_TOO_LARGE',
  FST_REQ_FILE_TOO_LARGE: 'PAYLOAD_TOO_LARGE',
  FST_PARTS_LIMIT: 'PAYLOAD_TOO_LARGE',
  FST_FILES_LIMIT: 'PAYLOAD_TOO_LARGE',
  FST_FIELDS_LIMIT: 'PAYLOAD_TOO_LARGE',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'UNSUPPORTED_MEDIA_TYPE',
  FST_INVALID_MULTIPART_CONTENT_TYPE: 'UNSUPPORTED_MEDIA_TYPE',
  FST_ERR_CTP_INVALID_JSON_BODY: 'INVALID_JSON',
  FST_INVALID_JSON_FIELD_ERROR: 'INVALID_JSON',
};

const FRAMEWORK_DETAILS: Partial<Record<ErrorCode, string>> = {
  PAYLOAD_TOO_LARGE: 'the request body is larger than limits.requestBodyBytes allows',
  // The routes that answer it read JSON; the deploy and raw HTTP routes take any type.
  UNSUPPORTED_MEDIA_TYPE: 'this route reads its body as JSON: send Content-Type: application/json',
};

export function problemType(code: ErrorCode): string {
  return `urn:wisp:problem:${code.toLowerCase().replaceAll('_', '-')}`;
}

/** Any thrown value as a WispError: catalogued errors pass through, the rest are classified. */
export function asWispError(err: unknown): WispError {
  if (err instanceof WispError) return err;
  const e = err as { code?: unknown; statusCode?: unknown; message?: unknown; validation?: unknown };
  const mapped = typeof e.code === 'string' ? FRAMEWORK_CODES[e.code] : undefined;
  if (mapped) return new WispError(mapped, FRAMEWORK_DETAILS[mapped] ?? String(e.message), {}, { cause: err });
  if (e.validation) return new WispError('INVALID_REQUEST', String(e.message), {}, { cause: err });
  const status = typeof e.statusCode === 'number' ? e.statusCode : 500;
  if (status >= 400 && status < 500) return new WispError('INVALID_REQUEST', String(e.message), {}, { cause: err });
  return new WispError('INTERNAL_ERROR', 'Wisp failed to handle the request; the server log has the details', {}, { cause: err });
}

/** The RFC 9457 document for `err`; Retry-After goes in a header, not the document. */
export function problemDocument(err: WispError, instance?: string): Record<string, unknown> {
  const { retryAfterSeconds: _, ...extensions } = err.extensions as { retryAfterSeconds?: number };
  return {
    type: problemType(err.code),
    title: catalogue[err.code].title,
    status: err.status,
    detail: err.message,
    code: err.code,
    ...(instance === undefined ? {} : { instance }),
    ...extensions,
  };
}

export function sendProblem(reply: FastifyReply, request: FastifyRequest, err: WispError): FastifyReply {
  const retryAfterSeconds = (err.extensions as { retryAfterSeconds?: number }).retryAfterSeconds;
  if (retryAfterSeconds !== undefined) reply.header('retry-after', String(retryAfterSeconds));
  return reply.code(err.status).type(PROBLEM_TYPE).send(problemDocument(err, request.url));
}

/** Answers any error; `refine` may replace the catalogued error with a more specific one. */
export function answerError(err: unknown, request: FastifyRequest, reply: FastifyReply, refine?: (problem: WispError) => WispError): FastifyReply {
  const problem = asWispError(err);
  if (problem.code === 'INTERNAL_ERROR') request.log.error({ err }, 'unhandled error');
  return sendProblem(reply, request, refine ? refine(problem) : problem);
}

/** The longest URL path segment the router takes (find-my-way's maxParamLength). */
export const MAX_PATH_SEGMENT = 200;

/** The router's options: Fastify's, and the one that answers 405s (allowed-methods.ts). */
export const ROUTER_OPTIONS = { ignoreTrailingSlash: true, maxParamLength: MAX_PATH_SEGMENT } as const;

/** Fastify's frameworkErrors: failures before routing, answered like every other error. */
export function answerFrameworkError(err: Error & { code?: string }, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  if (err.code === 'FST_ERR_BAD_URL') return sendProblem(reply, request, new WispError('INVALID_REQUEST', 'the URL path is not valid percent-encoded UTF-8'));
  if (err.code === 'FST_ERR_MAX_PARAM_LENGTH') return sendProblem(reply, request, new WispError('PATH_TOO_LONG', `a segment of the URL path is longer than ${MAX_PATH_SEGMENT} characters; no name or id is that long`));
  return answerError(err, request, reply);
}

/** Which methods a path takes: allowed-methods.ts. */
export interface MethodsOfPath {
  of(path: string): { methods: string[]; hint: string | undefined };
}

function notFound(request: FastifyRequest, reply: FastifyReply, routes: MethodsOfPath): FastifyReply {
  const path = request.url.split('?')[0]!;
  const { methods, hint } = routes.of(path);
  // A route that takes this method and found nothing under it (a file /ui/ does not have).
  if (methods.length === 0 || methods.includes(request.method)) return sendProblem(reply, request, new WispError('ROUTE_NOT_FOUND', `no route ${request.method} ${path}; see /docs`));
  reply.header('allow', methods.join(', '));
  const detail = `${path} does not take ${request.method}; it takes ${methods.join(', ')}${hint ? `: ${hint}` : ''}`;
  return sendProblem(reply, request, new WispError('METHOD_NOT_ALLOWED', detail));
}

export function installProblemHandlers(app: FastifyInstance, routes: MethodsOfPath): void {
  app.setErrorHandler((err, request, reply) => answerError(err, request, reply));
  app.setNotFoundHandler((request, reply) => notFound(request, reply, routes));
}
