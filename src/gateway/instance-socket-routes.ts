// GET /v1/instances/{id}/ws: a client's WebSocket, delivered to the instance's webSocketOpen,
// webSocketMessage and webSocketClose (instances/socket-calls.ts). Everything that can be refused
// is refused before the upgrade, as a problem document over HTTP: auth (a bearer token, or
// ?token= for browsers, which cannot set headers on a WebSocket), an unknown instance, a class
// that takes no sockets. After the upgrade, the close code says why a socket ended (openapi.yaml).
// In a cluster, a socket to an instance another node owns is relayed to it (cluster/socket-relay.ts).
import { randomBytes } from 'node:crypto';
import type { Socket } from 'node:net';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { WebSocket } from 'ws';
import { refusal } from '../cluster/internal-auth.js';
import { relay } from '../cluster/socket-relay.js';
import { WispError } from '../errors.js';
import { nodeFenced } from '../instances/instance-errors.js';
import { closeReason } from '../instances/instance-sockets.js';
import type { PausableLink, SocketSession } from '../instances/socket-calls.js';
import { idParams } from './instance-routes.js';
import type { Services } from './services.js';

type Route = { Params: { id: string }; Querystring: { token?: string } };

/** The client's socket as an instance's socket sees it. */
export function linkOf(socket: WebSocket): PausableLink {
  // ws writes each frame with a syscall of its own. Frames sent in one turn (an instance's batch:
  // a broadcast, a drained mailbox) are corked into one write instead: `_socket` is ws's
  // net.Socket, which it corks per frame itself; nested corks hold until the outer uncork.
  const raw = (socket as unknown as { _socket: Socket })._socket;
  let corked = false;
  const uncork = () => {
    corked = false;
    raw.uncork();
  };
  return {
    send: (data) => {
      if (socket.readyState !== socket.OPEN) return;
      if (!corked) {
        corked = true;
        raw.cork();
        process.nextTick(uncork);
      }
      socket.send(data);
    },
    close: (code, reason) => socket.close(code, reason),
    terminate: () => socket.terminate(),
    get bufferedAmount() {
      return socket.bufferedAmount;
    },
    pause: () => socket.pause(),
    resume: () => socket.resume(),
  };
}

/** A frame's payload as the instance gets it: text as a string, binary as bytes. */
export function payload(data: Buffer | ArrayBuffer | Buffer[], isBinary: boolean): string | Uint8Array {
  const bytes = Array.isArray(data) ? Buffer.concat(data) : Buffer.isBuffer(data) ? data : Buffer.from(data);
  return isBinary ? bytes : bytes.toString('utf8');
}

/** Serves an upgraded client's socket with the instance this node holds. */
function serveHere(socket: WebSocket, id: string, open: (id: string, socketId: string, link: PausableLink) => SocketSession): void {
  const socketId = `ws_${randomBytes(8).toString('hex')}`;
  let session: SocketSession;
  try {
    session = open(id, socketId, linkOf(socket));
  } catch (err) {
    // It stopped between the check and the upgrade.
    socket.close(1011, closeReason(err instanceof Error ? err.message : String(err)));
    return;
  }
  socket.on('message', (data, isBinary) => session.message(payload(data, isBinary)));
  socket.on('close', (code, reason) => session.closed(code, reason.toString('utf8')));
}

const tokenQuery = { type: 'object', properties: { token: { type: 'string' } }, additionalProperties: false } as const;
const upgradeRequired = async () => {
  throw new WispError('UPGRADE_REQUIRED', 'this route opens a WebSocket to the instance: connect with a WebSocket client (Upgrade: websocket)');
};

export async function instanceSocketRoutes(app: FastifyInstance, { instances, host, cluster }: Services): Promise<void> {
  // The owner's end of a relayed socket, opened in a request's preHandler, used by its wsHandler.
  const relays = new WeakMap<FastifyRequest, WebSocket>();

  app.route<Route>({
    method: 'GET',
    url: '/v1/instances/:id/ws',
    schema: { params: idParams, querystring: tokenQuery },
    preHandler: async (request) => {
      if (!request.ws) return;
      const upstream = await instances.prepareSocket(request.params.id);
      if (!upstream) return;
      // The client went while the owner's end opened: no upgrade follows, so nothing would close it.
      if (request.raw.socket.destroyed) return void upstream.terminate();
      relays.set(request, upstream);
      // An upgrade that never completes (the client went) must not keep the owner's end open.
      request.raw.socket.once('close', () => {
        if (relays.delete(request)) upstream.terminate();
      });
    },
    handler: upgradeRequired,
    wsHandler: (socket, request) => {
      const upstream = relays.get(request);
      relays.delete(request);
      if (upstream) relay(socket, upstream);
      else serveHere(socket, request.params.id, (id, socketId, link) => instances.openSocket(id, socketId, link));
    },
  });

  // The owner's side of a relayed socket: signed by the node the client reached, for the epoch it saw.
  app.route<{ Params: { id: string }; Querystring: { epoch: number } }>({
    method: 'GET',
    url: '/internal/v1/instances/:id/ws',
    schema: { params: idParams, querystring: { type: 'object', properties: { epoch: { type: 'integer', minimum: 0 } }, required: ['epoch'], additionalProperties: false } },
    preHandler: async (request) => {
      const why = refusal(cluster.secret(), request.headers, 'GET', request.url, Buffer.alloc(0));
      if (why !== null) throw new WispError('CLUSTER_AUTH_FAILED', why);
      const { id } = request.params;
      if (!instances.mayAnswer()) throw nodeFenced(`node ${cluster.nodeId} lost its cluster lease and takes no socket until it rejoins`);
      if (!host.holds(id, request.query.epoch)) throw new WispError('NOT_OWNER', `node ${cluster.nodeId} does not own instance ${id} at that epoch (it moved); read the directory again`);
      await host.prepareSocket(id);
    },
    handler: upgradeRequired,
    wsHandler: (socket, request) => serveHere(socket, request.params.id, (id, socketId, link) => host.openSocket(id, socketId, link)),
  });
}
