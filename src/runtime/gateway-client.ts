// Calls a worker makes through the gateway thread: ctx.instance(id).call(method, ...args) and
// ctx.invoke(name, input). The request goes to the gateway, which routes it and posts the outcome
// back. Used by pool workers and instance threads alike; each supplies how to post a request.
import { deserializeError } from '../errors.js';
import { jsonSizeAtLeast } from './json-size.js';
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
  readonly #inputLimit: (() => number) | undefined;
  readonly #waiting = new Map<number, Pending>();
  #nextSeq = 0;

  /**
   * `inputLimit` bounds what one call may send (its input, or its arguments): measured here, so
   * a call too large to send is refused before the gateway thread copies it. Without one,
   * nothing is measured.
   */
  constructor(post: (request: GatewayRequest) => void, inputLimit?: () => number) {
    this.#post = post;
    this.#inputLimit = inputLimit;
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
    if (this.#inputLimit) {
      const refused = this.#measure(request, this.#inputLimit());
      if (refused) return Promise.reject(refused);
    }
    return new Promise((resolve, reject) => {
      const seq = ++this.#nextSeq;
      this.#waiting.set(seq, { resolve, reject });
      this.#post({ ...request, seq } as GatewayRequest);
    });
  }

  /**
   * The error for a call too large to send; otherwise records a ctx.invoke() input's size on the
   * request, so the gateway charges its call history without walking the input again.
   */
  #measure(request: Unnumbered<GatewayRequest>, limit: number): Error | undefined {
    const sent = request.kind === 'invoke' ? request.input : request.args;
    const size = jsonSizeAtLeast(sent, limit);
    if (size > limit) {
      const what = request.kind === 'invoke' ? `the input of ctx.invoke("${request.name}")` : `the arguments of ${request.method}()`;
      const verb = request.kind === 'invoke' ? 'is' : 'are';
      return Object.assign(new RangeError(`${what} ${verb} larger than the ${limit}-byte limit`), { code: 'PAYLOAD_TOO_LARGE' });
    }
    if (request.kind === 'invoke') request.inputBytes = size;
    return undefined;
  }

  settle(seq: number, outcome: InstanceOutcome<string>): void {
    const waiting = this.#waiting.get(seq);
    if (!waiting) return;
    this.#waiting.delete(seq);
    if (outcome.ok) waiting.resolve(JSON.parse(outcome.value));
    else waiting.reject(deserializeError(outcome.error));
  }
}
