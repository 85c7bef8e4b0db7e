// Health, metrics and node state: GET /healthz, GET /metrics, GET /v1/node.
import { availableParallelism, totalmem } from 'node:os';
import type { FastifyInstance } from 'fastify';
import type { Services } from './services.js';

export async function systemRoutes(app: FastifyInstance, { pool, invoker, resources, instances, metrics }: Services): Promise<void> {
  // Liveness stays 200 while the process serves; `saturated` says calls now wait for a thread
  // (every thread of a tier is busy, tasks queue), which /healthz used to hide behind "ok".
  app.get('/healthz', async () => {
    const saturated = pool.stats().filter((tier) => tier.saturated).map(({ memoryMb, depth, busy, queued }) => ({ memoryMb, depth, busy, queued }));
    return { status: saturated.length > 0 ? 'saturated' : 'ok', saturated };
  });

  app.get('/metrics', async (_request, reply) => reply.type(metrics.contentType).send(await metrics.text()));

  app.get('/v1/node', async () => ({
    cores: availableParallelism(),
    memoryMb: Math.round(totalmem() / 2 ** 20),
    uptimeSeconds: Math.round(process.uptime()),
    // What instances can reserve (cpu in millicores, memory in MiB) and what they hold now.
    resources: { capacity: resources.capacity, allocated: resources.allocated },
    instances: instances.holding(),
    pool: {
      maxThreadsPerTier: pool.maxThreadsPerTier,
      inFlight: invoker.inFlight,
      tiers: pool.stats(),
    },
  }));
}
