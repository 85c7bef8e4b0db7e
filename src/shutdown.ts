// Graceful shutdown (SIGTERM, SIGINT): the gate closes, so requests arriving on open connections
// get 503 SHUTTING_DOWN; the listener stops; in-flight requests get shutdown.graceMs to finish
// before their connections are cut; then the services close: running instances are checkpointed,
// the async queue stops taking work (what is queued stays in the store for the next start).
import type { FastifyInstance } from 'fastify';

export async function shutDown(app: FastifyInstance, graceMs: number): Promise<void> {
  app.wispGate.drain();
  // Long-polls and event streams would otherwise hold the listener open for their whole wait.
  app.wisp.invocations.releaseWaiters();
  const cut = setTimeout(() => {
    app.log.warn({ graceMs }, 'shutdown grace period over: closing the connections still open');
    app.server.closeAllConnections();
  }, graceMs);
  cut.unref();
  try {
    // Fastify stops the listener, waits for in-flight requests, then runs the onClose hooks.
    await app.close();
  } finally {
    clearTimeout(cut);
  }
}
