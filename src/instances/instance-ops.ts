// The owner's side of a forwarded operation (the internal route's body, see instance-router.ts):
// run here, on an instance this node holds at the epoch the sender saw, or refused as NOT_OWNER
// so that the sender reads the directory again.
import { WispError } from '../errors.js';
import { nodeFenced } from './instance-errors.js';
import type { InstanceManager } from './instance-manager.js';
import { toWire, type InstanceOp, type InstanceRouter } from './instance-router.js';

function notOwner(id: string, self: string): WispError {
  return new WispError('NOT_OWNER', `node ${self} does not own instance ${id} at that epoch (it moved); read the directory again`);
}

export async function runInstanceOp(op: InstanceOp, host: InstanceManager, router: InstanceRouter, self: string): Promise<unknown> {
  // A node without its lease takes nothing on: what it started could already be another's.
  if (!router.mayAnswer()) throw nodeFenced(`node ${self} lost its cluster lease and takes no operation until it rejoins`);
  if (op.op === 'create') return router.createHere(op.fn, op.request, op.invocationId);
  if (op.op === 'adopt') return host.adopt(op.id, op.epoch);
  if (!host.holds(op.id, op.epoch)) throw notOwner(op.id, self);
  switch (op.op) {
    case 'call':
      return toWire(await router.runHere(op.id, op.method, op.args, { chain: op.chain, attempt: op.attempt, ...(op.invocationId === undefined ? {} : { invocationId: op.invocationId }) }));
    case 'suspend':
      return router.suspend(op.id);
    case 'resume':
      return router.resume(op.id);
    case 'delete':
      await router.delete(op.id);
      return null;
  }
}
