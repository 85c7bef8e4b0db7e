// GET /v1/cluster: the nodes of the cluster, their state, lease age, resources and instances
// (one node, in mode "single", for a Wisp on the embedded store).
import type { FastifyInstance } from 'fastify';
import type { Services } from './services.js';

export async function clusterRoutes(app: FastifyInstance, { cluster }: Services): Promise<void> {
  app.get('/v1/cluster', async () => cluster.view());
}
