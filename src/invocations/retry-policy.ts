// Retry decisions as pure functions (design §6.6): what the dispatcher and the callback sender
// do after a failure depends only on these, so tests check them without waiting.

/** Exponential backoff: the first retry waits `baseMs`, each next one twice as long, up to `maxMs`. */
export interface Backoff {
  baseMs: number;
  maxMs: number;
}

/**
 * The delay before retry number `retry` (1 for the first), with "equal jitter": half the
 * exponential delay is fixed and half is random, so retries of many invocations that failed
 * together spread out, yet none comes back sooner than half its nominal delay.
 * `random` is a number in [0, 1), Math.random() unless a test supplies one.
 */
export function backoffDelay(retry: number, backoff: Backoff, random: number): number {
  const nominal = Math.min(backoff.maxMs, backoff.baseMs * 2 ** Math.max(0, retry - 1));
  return Math.round(nominal / 2 + (random * nominal) / 2);
}

/** Catalogue codes of failures that would fail the same way again. */
const PERMANENT_CODES = new Set(['RESULT_TOO_LARGE', 'FUNCTION_NOT_FOUND', 'VERSION_NOT_FOUND', 'NO_JSON_HANDLER', 'INSTANCE_NOT_FOUND', 'METHOD_NOT_FOUND', 'CALL_CYCLE']);

export interface FailedAttempt {
  /** The catalogue code the attempt failed with. */
  code: string;
  /** False when the function's error said it is not worth retrying (`err.retriable = false`). */
  retriable: boolean;
  /** Attempts made so far, this one included. */
  attempts: number;
  maxAttempts: number;
}

/** Whether a failed attempt is tried again. */
export function shouldRetry(failure: FailedAttempt): boolean {
  return failure.retriable && !PERMANENT_CODES.has(failure.code) && failure.attempts < failure.maxAttempts;
}
