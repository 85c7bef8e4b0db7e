// Calls a worker makes through the gateway thread: ctx.instance(id).call(method, ...args) and
// ctx.invoke(name, input). The request goes to the gateway, which routes it and posts the outcome
// back. Used by pool workers and instance threads alike; each supplies how to post a request.
import { deserializeError } from '../errors.js';
import type { GatewayRequest, InstanceOutcome, InvocationMeta } from './protocol.js';

export interface InstanceHandle {
  readonly id: string;
  call(method: string, ...args: unknown[]): Promise<unknown>;
}

type Pending = { resolve: (value: unknown) => void; reject: (err: Error) => void };

/** A request as the caller builds it; the client numbers it. */
type Unnumbered<R> = R extends unknown ? Omit<R, 'seq'> : never;

export class GatewayClient {
  readonly #post: (request: GatewayRequest) => void;
  readonly #waiting = new Map<number, Pending>();
  #nextSeq = 0;

  constructor(post: (request: GatewayRequest) => void) {
    this.#post = post;
  }

  /** A handle whose calls carry `chain`: the instances the caller is itself running inside. */
  handle(id: string, chain: string[]): InstanceHandle {
    return {
      id,
      call: (method, ...args) => this.#request({ kind: 'instance', target: String(id), method: String(method), args, chain }),
    };
  }

  /** Runs function `name` with `input` as a child of the invocation `parent`; resolves to its result. */
  invoke(name: string, input: unknown, parent: InvocationMeta): Promise<unknown> {
    return this.#request({ kind: 'invoke', name: String(name), input: input === undefined ? null : input, parent });
  }

  #request(request: Unnumbered<GatewayRequest>): Promise<unknown> {
    return new Promise((resolve, reject) => {
      const seq = ++this.#nextSeq;
      this.#waiting.set(seq, { resolve, reject });
      this.#post({ ...request, seq } as GatewayRequest);
    });
  }

  settle(seq: number, outcome: InstanceOutcome<string>): void {
    const waiting = this.#waiting.get(seq);
    if (!waiting) return;
    this.#waiting.delete(seq);
    if (outcome.ok) waiting.resolve(JSON.parse(outcome.value));
    else waiting.reject(deserializeError(outcome.error));
  }
}
