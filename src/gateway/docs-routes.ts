// GET /docs: the API reference, rendered from openapi.yaml (the contract, written by hand).
import type { FastifyInstance, FastifyRequest } from 'fastify';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import { openApiDocument } from './openapi-document.js';

export { OPENAPI_FILE } from './openapi-document.js';

/**
 * The served document names, as its server, the address the reader reached Wisp at: "Try it
 * out" then calls this Wisp, on whatever host and port it listens (openapi.yaml says "/").
 */
function servedFrom(spec: Record<string, unknown>, request: FastifyRequest): Record<string, unknown> {
  return { ...spec, servers: [{ url: `${request.protocol}://${request.host}`, description: 'This Wisp, where these docs are served from' }] };
}

export async function docsRoutes(app: FastifyInstance): Promise<void> {
  await app.register(swagger, { mode: 'static', specification: { document: openApiDocument() as never } });
  await app.register(swaggerUi, { routePrefix: '/docs', transformSpecification: servedFrom });
}
