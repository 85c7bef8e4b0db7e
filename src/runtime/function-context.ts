import type { InstanceClient, InstanceHandle } from './instance-client.js';
import type { InvocationMeta } from './protocol.js';

/** The `ctx` argument a handler receives (design §2). */
export interface FunctionContext {
  readonly invocationId: string;
  readonly function: string;
  readonly version: number;
  readonly attempt: number;
  /** Aborted when the invocation's deadline passes. */
  readonly signal: AbortSignal;
  readonly env: Readonly<Record<string, string>>;
  /** A handle on a stateful instance: `await ctx.instance(id).call('add', 1)`. */
  instance(id: string): InstanceHandle;
}

const NO_ENV: Readonly<Record<string, string>> = Object.freeze({});

export function createContext(meta: InvocationMeta, instances: InstanceClient): FunctionContext {
  let signal: AbortSignal | undefined;
  return {
    invocationId: meta.invocationId,
    function: meta.function,
    version: meta.version,
    attempt: meta.attempt,
    // Created on first use: most handlers never look, and a timer per call is not free.
    get signal() {
      signal ??= AbortSignal.timeout(meta.timeoutMs);
      return signal;
    },
    env: NO_ENV,
    // A stateless call is inside no instance, so its chain starts empty.
    instance: (id) => instances.handle(id, []),
  };
}
