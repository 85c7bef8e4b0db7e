import type { FastifyInstance } from 'fastify';
import { assertFunctionName } from '../registry/function-name.js';

/** Every route in `app`'s scope with a :name parameter gets 400 INVALID_NAME for a bad one. */
export function checkFunctionNames(app: FastifyInstance): void {
  // Callback style: an async hook costs a promise per request on the hot path.
  app.addHook('preValidation', (request, _reply, done) => {
    const name = (request.params as { name?: string } | undefined)?.name;
    try {
      if (name !== undefined) assertFunctionName(name);
    } catch (err) {
      return done(err as Error);
    }
    done();
  });
}
