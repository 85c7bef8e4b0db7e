// ctx.instance(id).call(method, ...args) inside a worker: the request goes to the gateway thread,
// which routes it to the target instance and posts the outcome back. Used by pool workers and
// instance threads alike; each supplies how to post a request.
import { deserializeError } from '../errors.js';
import type { InstanceCallRequest, InstanceOutcome } from './protocol.js';

export interface InstanceHandle {
  readonly id: string;
  call(method: string, ...args: unknown[]): Promise<unknown>;
}

export class InstanceClient {
  readonly #post: (request: InstanceCallRequest) => void;
  readonly #waiting = new Map<number, { resolve: (value: unknown) => void; reject: (err: Error) => void }>();
  #nextSeq = 0;

  constructor(post: (request: InstanceCallRequest) => void) {
    this.#post = post;
  }

  /** A handle whose calls carry `chain`: the instances the caller is itself running inside. */
  handle(id: string, chain: string[]): InstanceHandle {
    return {
      id,
      call: (method, ...args) =>
        new Promise((resolve, reject) => {
          const seq = ++this.#nextSeq;
          this.#waiting.set(seq, { resolve, reject });
          this.#post({ seq, target: String(id), method: String(method), args, chain });
        }),
    };
  }

  settle(seq: number, outcome: InstanceOutcome<string>): void {
    const waiting = this.#waiting.get(seq);
    if (!waiting) return;
    this.#waiting.delete(seq);
    if (outcome.ok) waiting.resolve(JSON.parse(outcome.value));
    else waiting.reject(deserializeError(outcome.error));
  }
}
