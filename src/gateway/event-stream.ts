// A server-sent-events response, as every streaming route here opens one: the headers, a comment
// line every HEARTBEAT_MS so that proxies do not close a quiet stream, and one way to end it,
// taken when the client goes or Wisp shuts down (`draining`), whichever comes first.
import type { ServerResponse } from 'node:http';
import type { FastifyReply, FastifyRequest } from 'fastify';

const HEARTBEAT_MS = 15_000;

export interface EventStream {
  out: ServerResponse;
  /** Ends the stream (idempotent); `onStop` runs each time, to let go of what feeds it. */
  stop: () => void;
}

export function openEventStream(request: FastifyRequest, reply: FastifyReply, draining: AbortSignal, onStop: () => void): EventStream {
  reply.hijack();
  const out = reply.raw;
  out.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', connection: 'keep-alive', 'x-accel-buffering': 'no' });
  const heartbeat = setInterval(() => out.write(': keep-alive\n\n'), HEARTBEAT_MS);
  const stop = () => {
    clearInterval(heartbeat);
    onStop();
    draining.removeEventListener('abort', stop);
    if (!out.writableEnded) out.end();
  };
  request.raw.once('close', stop);
  draining.addEventListener('abort', stop, { once: true });
  return { out, stop };
}
