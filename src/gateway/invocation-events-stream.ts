// GET /v1/invocations/{id}/events: the invocation's state changes as server-sent events. The
// first event is its state now; the stream ends after the final one.
import type { FastifyReply, FastifyRequest } from 'fastify';
import { isFinalStatus, type InvocationView } from '../invocations/invocation-record.js';
import type { Invocations } from '../invocations/invocations.js';

/** A comment line every so often keeps proxies from closing a quiet stream. */
const HEARTBEAT_MS = 15_000;

export async function streamInvocationEvents(invocations: Invocations, id: string, request: FastifyRequest, reply: FastifyReply): Promise<void> {
  // Changes that happen while the state now is read are kept, and sent after it.
  const early: InvocationView[] = [];
  let unsubscribe = invocations.watch(id, (invocation) => early.push(invocation));
  let first: InvocationView;
  try {
    // Throws INVOCATION_NOT_FOUND before anything is sent, so that answer is problem details.
    first = await invocations.get(id);
  } catch (err) {
    unsubscribe();
    throw err;
  }
  unsubscribe();
  reply.hijack();
  const out = reply.raw;
  out.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', connection: 'keep-alive', 'x-accel-buffering': 'no' });
  let seq = 0;
  unsubscribe = () => {};
  const heartbeat = setInterval(() => out.write(': keep-alive\n\n'), HEARTBEAT_MS);
  // A shutdown ends the stream; EventSource clients reconnect on their own.
  const draining = invocations.stopWaiting;
  const stop = () => {
    clearInterval(heartbeat);
    unsubscribe();
    draining.removeEventListener('abort', stop);
    if (!out.writableEnded) out.end();
  };
  const send = (invocation: InvocationView) => {
    out.write(`id: ${++seq}\nevent: ${invocation.status}\ndata: ${JSON.stringify(invocation)}\n\n`);
    if (isFinalStatus(invocation.status)) stop();
  };
  request.raw.once('close', stop);
  draining.addEventListener('abort', stop, { once: true });
  send(first);
  for (const invocation of early) if (!out.writableEnded) send(invocation);
  // Begun during a shutdown: the state now, and no more.
  if (draining.aborted) stop();
  if (!out.writableEnded) unsubscribe = invocations.watch(id, send);
}
