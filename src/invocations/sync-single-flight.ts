// Concurrency control of synchronous calls (see concurrency-key.ts): while a call with a key
// runs on this node, an equal one joins it (`reuse`: the same answer, or the same error) or is
// refused (`reject`: 409 INVOCATION_PENDING naming it). Per node: a synchronous call lives in
// the memory of the node that runs it, and a cluster's nodes do not wait on each other's.
import { WispError } from '../errors.js';
import type { ConcurrencyControl } from '../store/records.js';
import { pendingDetail } from './concurrency-key.js';

interface Flight {
  invocationId: string;
  answer: Promise<string>;
}

export class SyncSingleFlight {
  readonly #flights = new Map<string, Flight>();

  /**
   * Runs `call` as invocation `invocationId` unless an equal call is running: then answers with
   * its result (telling `joined` its id) or refuses, as `control` says.
   */
  run(fn: string, key: string, control: ConcurrencyControl, invocationId: string, call: () => Promise<string>, joined?: (id: string) => void): Promise<string> {
    const running = this.#flights.get(key);
    if (running) {
      if (control.mode === 'reject') {
        return Promise.reject(new WispError('INVOCATION_PENDING', pendingDetail(fn, control, running.invocationId, 'running'), { invocationId: running.invocationId }));
      }
      joined?.(running.invocationId);
      return running.answer;
    }
    const answer = call().finally(() => this.#flights.delete(key));
    this.#flights.set(key, { invocationId, answer });
    return answer;
  }
}
