// GET /docs: the API reference, rendered from openapi.yaml (the contract, written by hand).
import { fileURLToPath } from 'node:url';
import type { FastifyInstance } from 'fastify';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';

export const OPENAPI_FILE = fileURLToPath(new URL('../../openapi.yaml', import.meta.url));

export async function docsRoutes(app: FastifyInstance): Promise<void> {
  await app.register(swagger, { mode: 'static', specification: { path: OPENAPI_FILE, baseDir: '' } });
  await app.register(swaggerUi, { routePrefix: '/docs' });
}
