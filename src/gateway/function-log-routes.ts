// A function's console lines, live, as calls of it end (stateless calls, instance methods,
// instance socket handlers; on other nodes of a cluster too, see invocations/log-relay.ts): GET /v1/functions/{name}/logs?follow=true as server-sent
// events, and GET /v1/functions/{name}/logs/ws as a WebSocket (one JSON text frame per event,
// its `event` field naming it). `log` per line (invocation id, attempt, level, time, message),
// `error` for a call that failed. A client that reads too slowly for its buffer is sent a last
// `dropped` event and the stream ends; the calls never wait for it.
import type { FastifyInstance } from 'fastify';
import { WispError } from '../errors.js';
import type { CallLog } from '../invocations/function-log-feed.js';
import { openEventStream } from './event-stream.js';
import type { Services } from './services.js';

/** Events a slow client may have waiting before it is dropped. */
const BUFFERED_EVENTS = 1000;
const DROPPED = { reason: `the client read too slowly: more than ${BUFFERED_EVENTS} events waited for it` };

/** A transport's way to send one event; false once the client has too many waiting. */
type Write = (event: string, data: Record<string, unknown>) => boolean;

/** The events one call's lines make, written until the client falls too far behind. */
function writeCall(call: CallLog, write: Write): boolean {
  const about = { invocationId: call.invocationId, version: call.version, attempt: call.attempt, ...(call.instance ? { instance: call.instance, method: call.method } : {}) };
  for (const entry of call.logs) {
    if (!write('log', { ...about, level: entry.level, time: new Date(entry.time).toISOString(), message: entry.message })) return false;
  }
  return call.error ? write('error', { ...about, ...call.error }) : true;
}

const nameParams = { type: 'object', properties: { name: { type: 'string' } }, required: ['name'] } as const;

export async function functionLogRoutes(app: FastifyInstance, { registry, logFeed, invocations }: Services): Promise<void> {
  app.get<{ Params: { name: string }; Querystring: { follow?: boolean } }>(
    '/v1/functions/:name/logs',
    {
      schema: {
        params: nameParams,
        querystring: { type: 'object', properties: { follow: { type: 'boolean' } }, additionalProperties: false },
      },
    },
    async (request, reply) => {
      const { name } = request.params;
      registry.get(name);
      if (request.query.follow !== true) throw new WispError('INVALID_REQUEST', 'add ?follow=true: the lines are streamed as calls end (each invocation\'s own are at /v1/invocations/{id}/logs)');
      // A shutdown ends the stream, as it ends invocation event streams.
      const draining = invocations.stopWaiting;
      let unfollow = () => {};
      const { out, stop } = openEventStream(request, reply, draining, () => unfollow());
      out.write(': following\n\n');
      // What the socket has not taken yet: past BUFFERED_EVENTS the client is too slow.
      let waiting = 0;
      out.on('drain', () => (waiting = 0));
      const write: Write = (event, data) => {
        if (out.writableEnded) return false;
        if (!out.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`)) waiting++;
        return waiting <= BUFFERED_EVENTS;
      };
      unfollow = logFeed.follow(name, {
        take: (call) => writeCall(call, write),
        dropped: () => {
          out.write(`event: dropped\ndata: ${JSON.stringify(DROPPED)}\n\n`);
          stop();
        },
      });
      if (draining.aborted) stop();
    },
  );

  app.route<{ Params: { name: string }; Querystring: { token?: string } }>({
    method: 'GET',
    url: '/v1/functions/:name/logs/ws',
    schema: { params: nameParams, querystring: { type: 'object', properties: { token: { type: 'string' } }, additionalProperties: false } },
    preHandler: async (request) => {
      registry.get(request.params.name);
    },
    handler: async () => {
      throw new WispError('UPGRADE_REQUIRED', 'this route streams the function\'s lines over a WebSocket: connect with a WebSocket client, or use /logs?follow=true for server-sent events');
    },
    wsHandler: (socket, request) => {
      // Frames handed to the socket and not yet written out.
      let waiting = 0;
      const written = () => waiting--;
      const write: Write = (event, data) => {
        if (socket.readyState !== socket.OPEN) return false;
        waiting++;
        socket.send(JSON.stringify({ event, ...data }), written);
        return waiting <= BUFFERED_EVENTS;
      };
      const unfollow = logFeed.follow(request.params.name, {
        take: (call) => writeCall(call, write),
        dropped: () => {
          socket.send(JSON.stringify({ event: 'dropped', ...DROPPED }));
          socket.close(4008, 'the client read too slowly');
        },
      });
      socket.on('close', unfollow);
    },
  });
}
