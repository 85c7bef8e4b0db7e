// GET /v1/functions/{name}/logs?follow=true: every call's console lines as server-sent events,
// as calls of the function end on this node: `log` per line (invocation id, attempt, level,
// time, message), `error` for a call that failed. A client that reads too slowly for its
// buffer is sent a last `dropped` event and the stream ends; the calls never wait for it.
import type { FastifyInstance } from 'fastify';
import { WispError } from '../errors.js';
import type { CallLog } from '../invocations/function-log-feed.js';
import type { Services } from './services.js';

/** Events a slow client may have waiting before it is dropped. */
const BUFFERED_EVENTS = 1000;
const HEARTBEAT_MS = 15_000;

export async function functionLogRoutes(app: FastifyInstance, { registry, logFeed, invocations }: Services): Promise<void> {
  app.get<{ Params: { name: string }; Querystring: { follow?: boolean } }>(
    '/v1/functions/:name/logs',
    {
      schema: {
        params: { type: 'object', properties: { name: { type: 'string' } }, required: ['name'] },
        querystring: { type: 'object', properties: { follow: { type: 'boolean' } }, additionalProperties: false },
      },
    },
    async (request, reply) => {
      const { name } = request.params;
      registry.get(name);
      if (request.query.follow !== true) throw new WispError('INVALID_REQUEST', 'add ?follow=true: the lines are streamed as calls end (each invocation\'s own are at /v1/invocations/{id}/logs)');
      reply.hijack();
      const out = reply.raw;
      out.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', connection: 'keep-alive', 'x-accel-buffering': 'no' });
      out.write(': following\n\n');
      // What the socket has not taken yet: past BUFFERED_EVENTS the client is too slow.
      let waiting = 0;
      out.on('drain', () => (waiting = 0));
      const write = (event: string, data: unknown): boolean => {
        if (out.writableEnded) return false;
        if (!out.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`)) waiting++;
        return waiting <= BUFFERED_EVENTS;
      };
      const heartbeat = setInterval(() => out.write(': keep-alive\n\n'), HEARTBEAT_MS);
      // A shutdown ends the stream, as it ends invocation event streams.
      const draining = invocations.stopWaiting;
      const stop = () => {
        clearInterval(heartbeat);
        unfollow();
        draining.removeEventListener('abort', stop);
        if (!out.writableEnded) out.end();
      };
      const unfollow = logFeed.follow(name, {
        take: (call: CallLog) => {
          for (const entry of call.logs) {
            if (!write('log', { invocationId: call.invocationId, version: call.version, attempt: call.attempt, level: entry.level, time: new Date(entry.time).toISOString(), message: entry.message })) return false;
          }
          return call.error ? write('error', { invocationId: call.invocationId, version: call.version, attempt: call.attempt, ...call.error }) : true;
        },
        dropped: () => {
          out.write(`event: dropped\ndata: ${JSON.stringify({ reason: `the client read too slowly: more than ${BUFFERED_EVENTS} events waited for it` })}\n\n`);
          stop();
        },
      });
      request.raw.once('close', stop);
      draining.addEventListener('abort', stop, { once: true });
      if (draining.aborted) stop();
    },
  );
}
