// Faults on a pool worker that no single await catches: an error thrown from a callback (a timer,
// an event), a promise rejection left unhandled, Buffer memory past the limit, a changed
// built-in. Functions share pool threads, so each is blamed on the call whose code caused it —
// found through the async scope its callback was made in (log-capture.ts) — never on whichever
// call happens to run when it surfaces. A call still running fails with the fault; in every case
// the thread is retired (stopped once it runs nothing, and replaced), since what leaked on it (a
// timer that throws again, a changed prototype, held memory) would otherwise reach other calls.
import type { MessagePort } from 'node:worker_threads';
import { serializeError, type SerializedError } from '../errors.js';
import { currentOwner, type TaskOwner } from './log-capture.js';
import type { Culprit, FailurePhase, RetireNotice } from './protocol.js';

/** How a running call is failed from outside its own await chain. */
export type FailCall = (phase: FailurePhase, error: SerializedError) => void;

function describe(culprit: Culprit | null): string {
  return culprit ? `function "${culprit.function}" version ${culprit.version} (invocation ${culprit.invocationId})` : 'code outside any call';
}

export class WorkerFaults {
  readonly #port: MessagePort;
  readonly #running = new Map<number, FailCall>();
  #retiring = false;

  constructor(port: MessagePort) {
    this.#port = port;
    process.on('uncaughtException', (err) => this.#onFault(err, 'threw from a callback'));
    process.on('unhandledRejection', (reason) => this.#onFault(reason, 'left a promise rejection unhandled'));
  }

  get retiring(): boolean {
    return this.#retiring;
  }

  /** Registers a running call; `fail` ends it with a fault. Returns the call's unregister. */
  enter(seq: number, fail: FailCall): () => void {
    this.#running.set(seq, fail);
    return () => this.#running.delete(seq);
  }

  /** Memory found over the limit while calls run (by a timer): the running calls hold it. */
  memoryWhileRunning(message: string): void {
    if (this.#running.size === 0) return;
    for (const fail of this.#running.values()) fail('memory', { name: 'Error', message });
    this.retire(`a call ${message}`, null);
  }

  /** A running call held too much memory: it fails as crashed, and the thread goes. */
  memory(owner: TaskOwner, message: string): void {
    this.#running.get(owner.seq)?.('memory', { name: 'Error', message: `${message}; the worker was recycled` });
    this.retire(`${describe((owner ?? null))} ${message}`, (owner ?? null));
  }

  /** Asks the gateway to stop this thread once it runs nothing; later tasks are turned away. */
  retire(reason: string, culprit: Culprit | null): void {
    if (this.#retiring) return;
    this.#retiring = true;
    this.#port.postMessage({ kind: 'retire', reason, culprit } satisfies RetireNotice);
  }

  /** Blames `owner`'s code for a change that surfaced after it ran (a built-in, held memory). */
  blame(owner: Culprit | null, what: string): void {
    this.retire(`${describe(owner)} ${what}`, owner);
  }

  #onFault(err: unknown, how: string): void {
    const owner = currentOwner();
    const error = serializeError(err);
    const fail = owner && this.#running.get(owner.seq);
    if (fail) fail('uncaught', error);
    const when = fail ? '' : ' after its call had ended';
    this.retire(`${describe((owner ?? null))} ${how}${when}: ${error.name}: ${error.message}`, (owner ?? null));
  }
}
