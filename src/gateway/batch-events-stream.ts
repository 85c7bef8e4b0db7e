// GET /v1/batches/{id}/events: a `result` event for each member as it becomes final (those final
// already first, in input order; then in the order they finish), then a `done` event with the
// batch, and the stream ends. Changes relayed between nodes are at most once, so the stream
// also looks at the counts now and then and sends any member it has not heard of.
import type { FastifyReply, FastifyRequest } from 'fastify';
import { memberResult } from '../invocations/batch-record.js';
import type { Batches } from '../invocations/batches.js';
import type { InvocationRecord } from '../store/records.js';
import { openEventStream } from './event-stream.js';

const RECONCILE_MS = 1000;

export async function streamBatchEvents(batches: Batches, id: string, request: FastifyRequest, reply: FastifyReply): Promise<void> {
  // Throws BATCH_NOT_FOUND before anything is sent, so that answer is problem details.
  const { size } = await batches.get(id);
  const sent = new Set<string>();
  let seq = 0;
  let ended = false;
  let reconciling: Promise<void> | undefined;
  const early: InvocationRecord[] = [];
  let onFinal = (member: InvocationRecord): void => void early.push(member);
  const unsubscribe = batches.watchFinal(id, (member) => onFinal(member));
  const { out, stop } = openEventStream(request, reply, batches.stopWaiting, () => {
    ended = true;
    unsubscribe();
    clearInterval(reconcile);
  });
  const finish = async () => {
    out.write(`id: ${++seq}\nevent: done\ndata: ${JSON.stringify(await batches.get(id))}\n\n`);
    stop();
  };
  const send = (member: InvocationRecord) => {
    if (ended || sent.has(member.id)) return;
    sent.add(member.id);
    out.write(`id: ${++seq}\nevent: result\ndata: ${JSON.stringify(memberResult(member))}\n\n`);
    if (sent.size === size) void finish().catch(() => stop());
  };
  // What is final already (and whatever a live event missed), in input order.
  const catchUp = async () => {
    if ((await batches.finalCount(id)) <= sent.size) return;
    for await (const member of batches.finalMembers(id)) {
      if (ended) return;
      send(member);
    }
  };
  const reconcile = setInterval(() => {
    reconciling ??= catchUp()
      .catch(() => undefined)
      .finally(() => (reconciling = undefined));
  }, RECONCILE_MS);
  try {
    await catchUp();
  } catch {
    // The store failed after the stream began: it ends, and an EventSource reconnects.
    return stop();
  }
  for (const member of early) send(member);
  onFinal = send;
  if (batches.stopWaiting.aborted) stop();
}
