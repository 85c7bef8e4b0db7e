import type { GatewayClient, InstanceHandle } from './gateway-client.js';
import type { InvocationMeta } from './protocol.js';

/** The `ctx` argument a handler receives (design §2). */
export interface FunctionContext {
  readonly invocationId: string;
  readonly function: string;
  readonly version: number;
  /** 1 on the first run; a retry of an asynchronous invocation counts up. */
  readonly attempt: number;
  /** Aborted when the invocation's deadline passes or it is cancelled. */
  readonly signal: AbortSignal;
  readonly env: Readonly<Record<string, string>>;
  /** Runs another function and resolves to its result; this invocation is recorded as its parent. */
  invoke(name: string, input?: unknown): Promise<unknown>;
  /** A handle on a stateful instance: `await ctx.instance(id).call('add', 1)`. */
  instance(id: string): InstanceHandle;
}

const NO_ENV: Readonly<Record<string, string>> = Object.freeze({});

export function createContext(meta: InvocationMeta, gateway: GatewayClient, signal: () => AbortSignal): FunctionContext {
  let made: AbortSignal | undefined;
  return {
    invocationId: meta.invocationId,
    function: meta.function,
    version: meta.version,
    attempt: meta.attempt,
    // Made on first use: most handlers never look, and a timer per call is not free.
    get signal() {
      made ??= signal();
      return made;
    },
    env: meta.env ?? NO_ENV,
    invoke: (name, input) => gateway.invoke(name, input, meta),
    // A stateless call is inside no instance, so its chain starts empty.
    instance: (id) => gateway.handle(id, []),
  };
}
