// The stateless pool: Piscina thread pools, one per memory size ("tier"), because a worker's
// heap cap is fixed when the thread starts. Every task runs under a deadline; a task that passes
// it has its thread terminated (Piscina stops the Worker of an aborted running task) and replaced.
import { fileURLToPath } from 'node:url';
import { Piscina } from 'piscina';
import type { TaskResults, WorkerSettings, WorkerTask } from './protocol.js';

export interface StatelessPoolOptions {
  maxThreads: number;
  minThreads: number;
  idleTimeoutMs: number;
  maxQueue: number;
  /** The tier started at once with minThreads; other tiers start on first use. */
  defaultMemoryMb: number;
  worker: WorkerSettings;
}

export interface RunOptions {
  memoryMb: number;
  timeoutMs: number;
}

/**
 * Why a task produced no result. `timeout`: it passed its deadline and its thread was stopped.
 * `crashed`: its thread died (out of memory, process.exit, an uncaught error). `busy`: the
 * tier's queue is full. `closed`: the pool is shutting down.
 */
export type TaskFailureReason = 'timeout' | 'crashed' | 'busy' | 'closed';

export class TaskFailure extends Error {
  override name = 'TaskFailure';
  readonly reason: TaskFailureReason;

  constructor(reason: TaskFailureReason, message: string, options?: ErrorOptions) {
    super(message, options);
    this.reason = reason;
  }
}

export interface TierStats {
  memoryMb: number;
  threads: number;
  queued: number;
  completed: number;
}

// A path, not a file: URL: Piscina converts URLs on every run() call.
const WORKER_FILE = fileURLToPath(new URL('./worker-entry.js', import.meta.url));

/**
 * The cancel signal Piscina gets for a task. Piscina accepts any emitter of 'abort'; this one
 * costs a fraction of an AbortController, which matters at one per call.
 */
class Deadline {
  aborted = false;
  #listener: (() => void) | undefined;

  once(_event: 'abort', listener: () => void): void {
    this.#listener = listener;
  }

  removeListener(): void {
    this.#listener = undefined;
  }

  off(): void {
    this.#listener = undefined;
  }

  expire(): void {
    this.aborted = true;
    this.#listener?.();
  }
}

export class StatelessPool {
  readonly #options: StatelessPoolOptions;
  readonly #tiers = new Map<number, Piscina>();
  #closing: Promise<void> | undefined;

  constructor(options: StatelessPoolOptions) {
    this.#options = options;
    this.#tier(options.defaultMemoryMb);
  }

  async run<K extends WorkerTask['kind']>(task: Extract<WorkerTask, { kind: K }>, options: RunOptions): Promise<TaskResults[K]> {
    if (this.#closing) throw new TaskFailure('closed', 'the pool is shutting down');
    const tier = this.#tier(options.memoryMb);
    const deadline = new Deadline();
    const timer = setTimeout(() => deadline.expire(), options.timeoutMs);
    try {
      return (await tier.run(task, { signal: deadline })) as TaskResults[K];
    } catch (err) {
      throw this.#explain(err, deadline.aborted, options);
    } finally {
      clearTimeout(timer);
    }
  }

  stats(): TierStats[] {
    return [...this.#tiers].map(([memoryMb, tier]) => ({
      memoryMb,
      threads: tier.threads.length,
      queued: tier.queueSize,
      completed: tier.completed,
    }));
  }

  get maxThreadsPerTier(): number {
    return this.#options.maxThreads;
  }

  /** Lets running tasks finish, then stops every thread. Idempotent. */
  close(): Promise<void> {
    this.#closing ??= Promise.all([...this.#tiers.values()].map((tier) => tier.close())).then(() => undefined);
    return this.#closing;
  }

  /** Stops every thread now; running tasks fail. */
  async destroy(): Promise<void> {
    this.#closing ??= Promise.resolve();
    await Promise.all([...this.#tiers.values()].map((tier) => tier.destroy()));
  }

  #tier(memoryMb: number): Piscina {
    let tier = this.#tiers.get(memoryMb);
    if (!tier) {
      const o = this.#options;
      tier = new Piscina({
        filename: WORKER_FILE,
        maxThreads: o.maxThreads,
        minThreads: memoryMb === o.defaultMemoryMb ? Math.min(o.minThreads, o.maxThreads) : 0,
        idleTimeout: o.idleTimeoutMs,
        maxQueue: o.maxQueue,
        concurrentTasksPerWorker: 1,
        // Piscina's timing histograms cost three clock reads and two records per task.
        recordTiming: false,
        resourceLimits: { maxOldGenerationSizeMb: memoryMb },
        workerData: o.worker,
        // Workers start clean: no loaders or flags inherited from the gateway's command line,
        // and none of the gateway's environment (it may hold tokens).
        execArgv: [],
        env: {},
      });
      // A dying thread also emits 'error' on the pool; the task that ran on it is rejected
      // and reported through run(), so the event needs no handling beyond not crashing us.
      tier.on('error', () => {});
      this.#tiers.set(memoryMb, tier);
    }
    return tier;
  }

  #explain(err: unknown, timedOut: boolean, options: RunOptions): TaskFailure {
    if (timedOut) return new TaskFailure('timeout', `the task ran past its ${options.timeoutMs} ms deadline`, { cause: err });
    const message = err instanceof Error ? err.message : String(err);
    if (this.#closing) return new TaskFailure('closed', 'the pool is shutting down', { cause: err });
    if (message === 'Task queue is at limit') {
      return new TaskFailure('busy', `the ${options.memoryMb} MB tier's queue is full`, { cause: err });
    }
    const code = (err as { code?: unknown })?.code;
    const detail = code === 'ERR_WORKER_OUT_OF_MEMORY' ? `out of memory (heap limit ${options.memoryMb} MB)` : message;
    return new TaskFailure('crashed', detail, { cause: err });
  }
}
