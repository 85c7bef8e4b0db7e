// Health and node state: GET /healthz, GET /v1/node.
import { availableParallelism, totalmem } from 'node:os';
import type { FastifyInstance } from 'fastify';
import type { Services } from './services.js';

export async function systemRoutes(app: FastifyInstance, { pool, invoker }: Services): Promise<void> {
  app.get('/healthz', async () => ({ status: 'ok' }));

  app.get('/v1/node', async () => ({
    cores: availableParallelism(),
    memoryMb: Math.round(totalmem() / 2 ** 20),
    uptimeSeconds: Math.round(process.uptime()),
    pool: {
      maxThreadsPerTier: pool.maxThreadsPerTier,
      inFlight: invoker.inFlight,
      tiers: pool.stats(),
    },
  }));
}
