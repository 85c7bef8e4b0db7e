// The WebSocket server under the gateway (@fastify/websocket): frames over
// instances.socketFrameBytes close the socket with 1009 (ws does it), and a shutdown closes
// every socket with 1001 rather than the plugin's code-less close. Upgrades from pages of
// another origin are refused.
import websocket from '@fastify/websocket';
import type { FastifyInstance } from 'fastify';
import type { Config } from '../config.js';
import { WispError } from '../errors.js';
import { sendProblem } from './problem.js';

/**
 * Browsers apply no same-origin rule to WebSockets: any page a developer visits could open one to
 * a Wisp on loopback, which needs no token there. An upgrade that says it comes from a page of
 * another origin is refused; clients that are not browsers send no Origin.
 */
function foreignOrigin(origin: string | undefined, host: string | undefined): boolean {
  if (origin === undefined) return false;
  try {
    return new URL(origin).host !== host;
  } catch {
    return true;
  }
}

export async function registerWebSockets(app: FastifyInstance, config: Config): Promise<void> {
  await app.register(websocket, {
    options: { maxPayload: config.instances.socketFrameBytes },
    // ws closes a socket itself on a protocol error (1009 for a frame too large, 1002, 1007) and
    // then reports it here: a socket still open is one whose handler threw, and closes with 1011.
    errorHandler: (error, socket, request) => {
      request.log.debug({ err: error }, 'websocket error');
      if (socket.readyState === socket.OPEN) socket.close(1011, 'Wisp failed to handle the socket');
    },
    preClose: (done) => {
      for (const client of app.websocketServer.clients) client.close(1001, 'Wisp is shutting down');
      done();
    },
  });
  // After the plugin's own hook, which marks upgrade requests: a refused one then has its socket closed.
  app.addHook('onRequest', (request, reply, done) => {
    if (request.headers.upgrade?.toLowerCase() === 'websocket' && foreignOrigin(request.headers.origin, request.headers.host)) {
      sendProblem(reply, request, new WispError('FOREIGN_ORIGIN', `a WebSocket from a page of ${request.headers.origin} is refused: only pages Wisp serves (or clients that send no Origin) may open one`));
      return;
    }
    done();
  });
}
