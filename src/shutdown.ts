// Graceful shutdown (SIGTERM, SIGINT). Requests arriving on connections already open get 503
// SHUTTING_DOWN; the listener stops; in-flight requests get shutdown.graceMs to finish before
// their connections are cut and running calls stopped; then the services close: running
// instances are checkpointed, the async queue stops taking work (what is queued stays in the
// store for the next start). The grace bounds instances too: at its end an instance still busy
// (a call running, a checkpoint waiting behind one) has its thread stopped and keeps its last
// checkpoint, so nothing an instance does can hold the exit.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { FastifyInstance } from 'fastify';
import { WispError } from './errors.js';
import { PROBLEM_TYPE, problemDocument } from './gateway/problem.js';

/**
 * From now on the server answers every new request itself, before Fastify sees it: requests
 * already in Fastify's hands go on. Swapping the listener costs nothing while Wisp runs; a
 * hook checking a "draining" flag would cost every call.
 */
function refuseNewRequests(app: FastifyInstance, retryAfterSeconds: number): void {
  const problem = new WispError('SHUTTING_DOWN', 'Wisp is shutting down; retry on another node or after it restarts');
  const refuse = (request: IncomingMessage, response: ServerResponse) => {
    const body = JSON.stringify(problemDocument(problem, request.url));
    response.writeHead(problem.status, { 'content-type': PROBLEM_TYPE, 'retry-after': String(retryAfterSeconds), connection: 'close', 'content-length': Buffer.byteLength(body) });
    response.end(body);
  };
  app.server.removeAllListeners('request');
  app.server.on('request', refuse);
}

export async function shutDown(app: FastifyInstance, graceMs: number): Promise<void> {
  refuseNewRequests(app, app.wisp.config.pressure.retryAfterSeconds);
  // Long-polls and event streams would otherwise hold the listener open for their whole wait.
  app.wisp.invocations.releaseWaiters();
  app.wisp.host.closeBy(Date.now() + graceMs);
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
