// How a task's failures become outcome values (never thrown across the thread, which would lose
// the error's class), shared by pool workers (JSON and fetch handlers) and instance threads.
import { serializeError, type SerializedError } from '../errors.js';
import type { LoadedModule } from './module-loader.js';
import type { FailurePhase, Outcome } from './protocol.js';
import { resultJson } from './result-json.js';

export type Failure = Extract<Outcome<never>, { ok: false }>;

/** A failed outcome; with `loaded`, the stack is mapped back to the uploaded sources. */
export function fail<P extends string = FailurePhase>(phase: P, err: unknown, loaded?: LoadedModule): { ok: false; phase: P; error: SerializedError } {
  const error = serializeError(err);
  if (loaded && error.stack) error.stack = loaded.stacks.map(error.stack);
  return { ok: false, phase, error };
}

/** JSON text of a handler's value, or a `result` failure when it cannot be sent back. */
export function toJson(value: unknown, limitBytes: number, loaded?: LoadedModule): Outcome<string> {
  const encoded = resultJson(value, limitBytes);
  return encoded.ok ? { ok: true, value: encoded.json } : fail('result', encoded.error, loaded);
}
