import type { FastifyInstance } from 'fastify';
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

const jsonParser = (_request: unknown, body: string | Buffer, done: (err: Error | null, body?: unknown) => void): void => {
  try {
    done(null, parseJson(body as string));
  } catch (err) {
    done(err as Error, undefined);
  }
};

/** Replaces Fastify's JSON parser in `app`'s scope with parseJson. */
export function useJsonParser(app: FastifyInstance): void {
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser(JSON_TYPE, { parseAs: 'string' }, jsonParser);
}

/**
 * Every body in `app`'s scope is JSON, whatever its Content-Type: `curl -d '{...}'` sends
 * application/x-www-form-urlencoded, and an invoke should just work for that curl user.
 */
export function treatEveryBodyAsJson(app: FastifyInstance): void {
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'string' }, jsonParser);
}
