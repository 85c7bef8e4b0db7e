// The path parameter of routes under /v1/invocations/{id} and /v1/batches/{id}: a UUID, checked
// by the route so that anything else is a 400 rather than a lookup.
export const uuidParams = {
  type: 'object',
  properties: { id: { type: 'string', pattern: '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$' } },
  required: ['id'],
} as const;

export type IdParams = { Params: { id: string } };
