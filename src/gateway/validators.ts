// Request validation: query strings and path parameters are text, so they may coerce
// ("?async=true" is a boolean); a JSON body already has types, so it must not. With coercion
// `false` sent to a route that takes an object-or-null became null, and {"activeVersion": true}
// became 1: a wrong type has to be a 400 that names the field, not a guess.
import AjvCompiler from '@fastify/ajv-compiler';
import type { FastifyServerOptions } from 'fastify';

// Unknown fields are refused with a message, not silently dropped: a typo should not pass.
// No scalar turns into a one-element array either (Fastify's default is coerceTypes: 'array').
const common = { removeAdditional: false, useDefaults: true, allErrors: false } as const;

// One pool each, made once: a pool keeps one Ajv per set of shared schemas and options, and
// Fastify asks for a validator compiler in every plugin scope (a new Ajv each cost startup time).
const bodyPool = AjvCompiler();
const textPool = AjvCompiler();

export const schemaController: FastifyServerOptions['schemaController'] = {
  compilersFactory: {
    buildValidator: (externalSchemas, options) => {
      const plugins = { plugins: options?.plugins ?? [] };
      const forBodies = bodyPool(externalSchemas, { ...plugins, customOptions: { ...common, coerceTypes: false } });
      const forText = textPool(externalSchemas, { ...plugins, customOptions: { ...common, coerceTypes: true } });
      return (route) => (route.httpPart === 'body' ? forBodies(route) : forText(route));
    },
  },
};
