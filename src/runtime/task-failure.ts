// How a task on a worker thread (pool or instance) can fail to produce an outcome at all.
/**
 * Why a task produced no result. `timeout`: it passed its deadline and its thread was stopped.
 * `crashed`: its thread died (out of memory, process.exit, an uncaught error). `busy`: the
 * tier's queue is full. `closed`: the pool is shutting down. `unavailable`: the instance thread
 * it was meant for is gone (it died, or was stopped, while the task waited behind another).
 * `cancelled`: the caller cancelled it.
 */
export type TaskFailureReason = 'timeout' | 'crashed' | 'busy' | 'closed' | 'unavailable' | 'cancelled';

export class TaskFailure extends Error {
  override name = 'TaskFailure';
  readonly reason: TaskFailureReason;

  constructor(reason: TaskFailureReason, message: string, options?: ErrorOptions) {
    super(message, options);
    this.reason = reason;
  }
}
