// Serves what workers ask the gateway for through their ctx: calls to instances and nested
// function calls. Failures travel back as outcomes, rebuilt as errors in the calling thread.
import { WispError } from '../errors.js';
import type { InstanceRouter } from '../instances/instance-router.js';
import type { GatewayRequest, InstanceOutcome } from '../runtime/protocol.js';
import type { Invoker } from './invoker.js';

export async function routeGatewayRequest(request: GatewayRequest, to: { instances: InstanceRouter; invoker: Invoker }): Promise<InstanceOutcome<string>> {
  try {
    if (request.kind === 'invoke') return await to.invoker.nested(request);
    return { ok: true, value: await to.instances.call(request.target, request.method, request.args, request.chain) };
  } catch (err) {
    const error = err instanceof WispError ? { name: 'WispError', code: err.code, message: err.message } : { name: 'Error', message: String(err) };
    return { ok: false, phase: 'handler', error };
  }
}
