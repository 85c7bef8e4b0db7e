// Asynchronous invocations across a cluster's nodes: an attempt runs on whichever node claimed
// it, while a client may wait on it (long-poll, event stream) or cancel it through any other.
// Each state change a node stores is announced on the message bus by id (and batch id); a node
// where someone waits on that id, or on that batch, reads the record again and tells them. A cancel of a running invocation is
// announced too: the node running its attempt stops it. Delivery is at most once, and the store
// holds the truth: a waiter that missed a change still gets the final state when its wait ends.
import type { InvocationStore } from '../store/invocation-store.js';
import type { MessageBus } from '../store/message-bus.js';
import type { Dispatch } from './dispatch.js';
import type { InvocationEvents } from './invocation-events.js';

export interface InvocationRelay {
  /** Asks every other node to stop the attempt of `id`, if one runs there. */
  cancelElsewhere(id: string): void;
}

export const aloneRelay: InvocationRelay = { cancelElsewhere: () => undefined };

export async function startInvocationRelay(o: { bus: MessageBus; nodeId: string; events: InvocationEvents; store: InvocationStore; dispatcher: Dispatch; log: (message: string) => void }): Promise<InvocationRelay> {
  const tell = (kind: 'invocation' | 'cancel', id: string, batchId?: string) =>
    o.bus.publish({ kind, name: id, from: o.nodeId, ...(batchId === undefined ? {} : { data: batchId }) }).catch((err: unknown) => o.log(`cannot tell the other nodes of invocation ${id}: ${String(err)}`));
  o.events.relayTo((record) => void tell('invocation', record.id, record.batchId));
  await o.bus.subscribe(
    (message) => {
      if (message.from === o.nodeId) return;
      if (message.kind === 'cancel') return o.dispatcher.attempts.abort(message.name);
      if (message.kind !== 'invocation') return;
      if (!o.events.watched(message.name) && !(typeof message.data === 'string' && o.events.watchedBatch(message.data))) return;
      o.store
        .get(message.name)
        .then((record) => record && o.events.deliver(record))
        .catch((err: unknown) => o.log(`cannot read invocation ${message.name} after a change on node ${message.from}: ${String(err)}`));
    },
    () => undefined,
  );
  return { cancelElsewhere: (id) => void tell('cancel', id) };
}
