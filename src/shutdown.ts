// Graceful shutdown (SIGTERM, SIGINT): the gate closes, so requests arriving on open connections
// get 503 SHUTTING_DOWN; the listener stops; in-flight requests get shutdown.graceMs to finish
// before their connections are cut and running calls stopped; then the services close: running instances are checkpointed,
// the async queue stops taking work (what is queued stays in the store for the next start).
import type { FastifyInstance } from 'fastify';

export async function shutDown(app: FastifyInstance, graceMs: number): Promise<void> {
  app.wispGate.drain();
  // Long-polls and event streams would otherwise hold the listener open for their whole wait.
  app.wisp.invocations.releaseWaiters();
  const cut = setTimeout(() => {
    app.log.warn({ graceMs }, 'shutdown grace period over: closing the connections still open and stopping running calls');
    app.server.closeAllConnections();
    // The pool's close waits for running tasks; a call that outlives the grace would hold the
    // stop for its whole timeout. An async attempt cut off here runs again at the next start.
    void app.wisp.pool.destroy();
  }, graceMs);
  cut.unref();
  try {
    // Fastify stops the listener, waits for in-flight requests, then runs the onClose hooks.
    await app.close();
  } finally {
    clearTimeout(cut);
  }
}
