// A clock the test moves by hand: timers scheduled on it fire only inside advance(), in order.
// The queue and the callback sender take their time from it, so backoff is checked exactly.
import type { Clock, Timer } from '../../dist/common/clock.js';

interface Pending {
  at: number;
  fn: () => void;
  cancelled: boolean;
}

export class ManualClock implements Clock {
  #now: number;
  #timers: Pending[] = [];
  /** What fired timers returned that is still under way (a store write, say). */
  #underWay: Promise<unknown>[] = [];
  /** What random() returns: 0.5 puts every jittered delay in the middle of its range. */
  randomValue = 0.5;

  constructor(start = Date.now()) {
    this.#now = start;
  }

  now(): number {
    return this.#now;
  }

  random(): number {
    return this.randomValue;
  }

  schedule(fn: () => void, ms: number): Timer {
    const timer: Pending = { at: this.#now + Math.max(0, ms), fn, cancelled: false };
    this.#timers.push(timer);
    return { cancel: () => void (timer.cancelled = true) };
  }

  /** When the earliest live timer fires, if any. */
  get nextTimerAt(): number | undefined {
    const live = this.#timers.filter((timer) => !timer.cancelled).map((timer) => timer.at);
    return live.length ? Math.min(...live) : undefined;
  }

  /** Moves time forward by `ms`, firing every timer that falls due, earliest first. */
  advance(ms: number): void {
    const until = this.#now + ms;
    for (;;) {
      const due = this.#timers.filter((timer) => !timer.cancelled && timer.at <= until).sort((a, b) => a.at - b.at)[0];
      if (!due) break;
      due.cancelled = true;
      this.#now = due.at;
      const out: unknown = due.fn();
      if (out instanceof Promise) this.#underWay.push(out);
    }
    this.#now = until;
    this.#timers = this.#timers.filter((timer) => !timer.cancelled);
  }

  /** Resolves once the work begun by the timers fired so far (when they return a promise) has ended. */
  async settled(): Promise<void> {
    while (this.#underWay.length > 0) await Promise.allSettled(this.#underWay.splice(0));
  }
}
