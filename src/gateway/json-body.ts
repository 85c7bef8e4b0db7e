import type { FastifyInstance, FastifyRequest } from 'fastify';
import secureJson from 'secure-json-parse';
import { WispError } from '../errors.js';

export const JSON_TYPE = /^application\/(?:[\w.+-]+\+)?json$/i;

/**
 * Parses JSON text the way every route does: an empty body is null (an invoke with no input),
 * and `__proto__` / `constructor.prototype` keys are refused rather than merged.
 */
export function parseJson(text: string): unknown {
  if (text.trim() === '') return null;
  try {
    return secureJson.parse(text, undefined, { protoAction: 'error', constructorAction: 'error' });
  } catch (err) {
    throw new WispError('INVALID_JSON', `the body is not valid JSON: ${(err as Error).message}`);
  }
}

/** The request's media type, lowercase, without parameters (`text/plain; charset=utf-8` → `text/plain`); '' when none. */
export function mediaTypeOf(request: FastifyRequest): string {
  return (request.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
}

/** What `curl -d` sends when no -H 'content-type: application/json' is given. */
const CURL_DEFAULT_TYPE = 'application/x-www-form-urlencoded';

const jsonParser = (request: FastifyRequest, body: string | Buffer, done: (err: Error | null, body?: unknown) => void): void => {
  try {
    done(null, parseJson(body as string));
  } catch (err) {
    const type = mediaTypeOf(request);
    // Text that is not JSON, sent as something other than JSON: say which type the route reads.
    if (err instanceof WispError && type !== '' && !JSON_TYPE.test(type)) {
      done(new WispError('INVALID_JSON', `${err.message} (it was sent as ${type}; this route reads the body as JSON: send Content-Type: application/json)`));
    } else done(err as Error, undefined);
  }
};

/**
 * `app`'s scope reads JSON only: application/json (and +json types) with parseJson, and curl's
 * default type too, since `curl -d '{"a":1}'` is JSON in all but its label. Any other type is a
 * 415 that names application/json (problem.ts).
 */
export function useJsonParser(app: FastifyInstance): void {
  app.removeAllContentTypeParsers();
  for (const type of [JSON_TYPE, CURL_DEFAULT_TYPE]) app.addContentTypeParser(type, { parseAs: 'string' }, jsonParser);
}

/**
 * Every body in `app`'s scope is JSON, whatever its Content-Type: `curl -d '{...}'` sends
 * application/x-www-form-urlencoded, and an invoke should just work for that curl user.
 */
export function treatEveryBodyAsJson(app: FastifyInstance): void {
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'string' }, jsonParser);
}
