// GET /v1/invocations/{id}/events: the invocation's state changes as server-sent events. The
// first event is its state now; the stream ends after the final one.
import type { FastifyReply, FastifyRequest } from 'fastify';
import { isFinalStatus, type InvocationView } from '../invocations/invocation-record.js';
import type { Invocations } from '../invocations/invocations.js';
import { openEventStream } from './event-stream.js';

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
  let seq = 0;
  unsubscribe = () => {};
  // A shutdown ends the stream; EventSource clients reconnect on their own.
  const draining = invocations.stopWaiting;
  const { out, stop } = openEventStream(request, reply, draining, () => unsubscribe());
  const send = (invocation: InvocationView) => {
    out.write(`id: ${++seq}\nevent: ${invocation.status}\ndata: ${JSON.stringify(invocation)}\n\n`);
    if (isFinalStatus(invocation.status)) stop();
  };
  send(first);
  for (const invocation of early) if (!out.writableEnded) send(invocation);
  // Begun during a shutdown: the state now, and no more.
  if (draining.aborted) stop();
  if (!out.writableEnded) unsubscribe = invocations.watch(id, send);
}
