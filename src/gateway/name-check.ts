import type { FastifyInstance } from 'fastify';
import { assertFunctionName } from '../registry/function-name.js';

/** Every route in `app`'s scope with a :name parameter gets 400 INVALID_NAME for a bad one. */
export function checkFunctionNames(app: FastifyInstance): void {
  app.addHook('preValidation', async (request) => {
    const name = (request.params as { name?: string } | undefined)?.name;
    if (name !== undefined) assertFunctionName(name);
  });
}
