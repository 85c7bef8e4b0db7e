// Time as all of Wisp sees it (one injected clock: records, queue, backoff). Production uses the
// system clock; tests pass a manual one (test/helpers/manual-clock.ts) to check backoff without waiting for it.

export interface Timer {
  cancel(): void;
}

export interface Clock {
  now(): number;
  /** Calls `fn` after `ms`; the timer never keeps the process alive. */
  schedule(fn: () => void, ms: number): Timer;
  /** A number in [0, 1) for jitter. */
  random(): number;
}

/**
 * Records keep one timestamp format, epoch milliseconds (cheap to compare, index and score);
 * the API shows ISO 8601 in UTC, made by this at the edge.
 */
export const isoTime = (ms: number): string => new Date(ms).toISOString();

export const systemClock: Clock = {
  now: () => Date.now(),
  schedule(fn, ms) {
    const timer = setTimeout(fn, Math.max(0, ms));
    timer.unref();
    return { cancel: () => clearTimeout(timer) };
  },
  random: () => Math.random(),
};
