// What the gateway can do to a task already handed to a pool worker: cancel it. A running task's
// ctx.signal is aborted (its thread is terminated after a grace period if it does not end); a
// task not yet started is remembered so the worker skips it when it comes up.

/** How many cancellations of not-yet-started tasks a worker remembers (most were never its own). */
const REMEMBERED = 256;

export class TaskControls {
  /** Tasks running here, with their controller once something asked for their signal. */
  readonly #running = new Map<number, AbortController | null>();
  readonly #cancelledEarly = new Set<number>();

  /** Registers a starting task; false when it was cancelled before it started. */
  start(seq: number): boolean {
    if (this.#cancelledEarly.delete(seq)) return false;
    this.#running.set(seq, null);
    return true;
  }

  /** The task's signal: aborted at its deadline or when it is cancelled. */
  signal(seq: number, timeoutMs: number): AbortSignal {
    return AbortSignal.any([this.#controller(seq).signal, AbortSignal.timeout(timeoutMs)]);
  }

  /** Cancels the task, whether it runs here now, has not started yet, or never comes here. */
  cancel(seq: number): void {
    if (this.#running.has(seq)) {
      this.#controller(seq).abort(new DOMException('the invocation was cancelled', 'AbortError'));
      return;
    }
    this.#cancelledEarly.add(seq);
    if (this.#cancelledEarly.size > REMEMBERED) this.#cancelledEarly.delete(this.#cancelledEarly.values().next().value!);
  }

  end(seq: number): void {
    this.#running.delete(seq);
  }

  #controller(seq: number): AbortController {
    let controller = this.#running.get(seq);
    if (!controller) {
      controller = new AbortController();
      this.#running.set(seq, controller);
    }
    return controller;
  }
}
