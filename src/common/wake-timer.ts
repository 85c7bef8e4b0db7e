import type { Clock, Timer } from './clock.js';

/**
 * One pending wake-up for a loop that works through due items (the queue, the callbacks): asked
 * to wake at a time, it keeps whichever wake-up comes first.
 */
export class WakeTimer {
  readonly #clock: Clock;
  readonly #wake: () => void;
  #timer: Timer | undefined;
  #at = Infinity;

  constructor(clock: Clock, wake: () => void) {
    this.#clock = clock;
    this.#wake = wake;
  }

  /** Wakes at `time`, unless that is not in the future or an earlier wake-up is already set. */
  wakeAt(time: number | undefined, now: number): void {
    if (time === undefined || time <= now) return;
    if (this.#timer && this.#at <= time) return;
    this.#timer?.cancel();
    this.#at = time;
    this.#timer = this.#clock.schedule(() => {
      this.#timer = undefined;
      this.#at = Infinity;
      this.#wake();
    }, time - now);
  }

  cancel(): void {
    this.#timer?.cancel();
    this.#timer = undefined;
    this.#at = Infinity;
  }
}
