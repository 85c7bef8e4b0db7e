// Hibernation's clock: an instance with idleSuspendMs is told idle once that long has passed
// since the end of its last call or socket event. One timer per instance, moved only when it
// fires (a call just notes the time), so a busy instance costs no timer churn per call.
import type { Clock } from '../common/clock.js';
import type { LiveInstance } from './live-instances.js';

export class IdleWatch {
  readonly #clock: Clock;
  readonly #onIdle: (live: LiveInstance) => void;

  /** `onIdle` decides whether the instance may hibernate now (no call running, no socket open). */
  constructor(clock: Clock, onIdle: (live: LiveInstance) => void) {
    this.#clock = clock;
    this.#onIdle = onIdle;
  }

  /** Something ended on the instance: its idle time starts again from now. */
  touch(live: LiveInstance): void {
    const idleMs = live.record.idleSuspendMs;
    if (!idleMs || live.record.group !== null) return;
    live.lastActiveAt = this.#clock.now();
    if (!live.idleTimer) this.#arm(live, idleMs);
  }

  #arm(live: LiveInstance, inMs: number): void {
    live.idleTimer = setTimeout(() => {
      live.idleTimer = undefined;
      const left = (live.lastActiveAt ?? 0) + (live.record.idleSuspendMs ?? 0) - this.#clock.now();
      if (left > 0) this.#arm(live, left);
      else this.#onIdle(live);
    }, inMs);
    live.idleTimer.unref();
  }
}
