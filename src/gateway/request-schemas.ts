// openapi.yaml is the schema of record for requests: each route validates its JSON body and its
// query string with the schemas the document publishes, so that what a reader of /docs is told
// and what the server enforces cannot differ. Path parameters are checked by the routes
// themselves, for their own error codes (INVALID_NAME and the *_NOT_FOUND ones).
import { openApiDocument } from './openapi-document.js';

type Schema = Record<string, unknown>;
interface Parameter {
  name: string;
  in: string;
  required?: boolean;
  schema?: Schema;
  $ref?: string;
}
interface Operation {
  parameters?: Parameter[];
  requestBody?: { required?: boolean; content: Record<string, { schema?: Schema }> };
}

const spec = openApiDocument();

/** The node a local reference points at ('#/components/schemas/CreateInstance/properties/resources'). */
function pointed(ref: string): unknown {
  return ref
    .slice(2)
    .split('/')
    .map((part) => part.replaceAll('~1', '/').replaceAll('~0', '~'))
    .reduce<unknown>((node, key) => (node as Record<string, unknown> | undefined)?.[key], spec);
}

/**
 * `node` with every reference inlined. Defaults are dropped: they document what the code does
 * when a field is absent, and Ajv's useDefaults would otherwise write them into the request.
 */
function inlined(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(inlined);
  if (typeof node !== 'object' || node === null) return node;
  const { $ref, default: _, ...rest } = node as Schema;
  if (typeof $ref === 'string') return inlined(pointed($ref));
  return Object.fromEntries(Object.entries(rest).map(([key, value]) => [key, inlined(value)]));
}

function operation(path: string, method: string): { item: Schema; op: Operation } {
  const item = (spec.paths as Record<string, Schema>)[path];
  const op = item?.[method] as Operation | undefined;
  if (!item || !op) throw new Error(`openapi.yaml has no ${method} ${path}`);
  return { item, op };
}

export interface RequestSchemas {
  querystring?: Schema;
  body?: Schema;
}

/**
 * The Fastify schemas of `method path` (as written in openapi.yaml) from the document: the query
 * string as an object that takes no other keys, and the application/json body, which may also be
 * absent (null) unless the request body is required. `overrides` bound what only the config
 * knows (such as the longest long-poll), merged into the query parameters' schemas.
 */
export function requestSchemas(path: string, method: string, overrides: { query?: Record<string, Schema> } = {}): RequestSchemas {
  const { item, op } = operation(path, method);
  const parameters = [...((item.parameters as Parameter[] | undefined) ?? []), ...(op.parameters ?? [])].map((p) => inlined(p) as Parameter);
  const query = parameters.filter((p) => p.in === 'query');
  const schemas: RequestSchemas = {};
  if (query.length > 0) {
    schemas.querystring = {
      type: 'object',
      additionalProperties: false,
      properties: Object.fromEntries(query.map((p) => [p.name, { ...p.schema, ...overrides.query?.[p.name] }])),
      ...(query.some((p) => p.required) ? { required: query.filter((p) => p.required).map((p) => p.name) } : {}),
    };
  }
  const json = op.requestBody?.content['application/json']?.schema;
  if (json && Object.keys(json).length > 0) {
    const body = inlined(json) as Schema;
    schemas.body = op.requestBody?.required ? body : { anyOf: [{ type: 'null' }, body] };
  }
  return schemas;
}
