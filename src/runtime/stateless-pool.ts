// The stateless pool: Piscina thread pools, one per memory size and nesting depth ("tier"). The
// heap cap is fixed when a thread starts; and a ctx.invoke() call runs one tier deeper than its
// caller, so a caller waiting on a child never holds the thread the child needs: threads at one
// depth wait only on threads deeper down, which wait on none at the bottom, and nesting cannot
// deadlock however full each tier is. Every task runs under a deadline; a task that passes it has
// its thread terminated and replaced (see running-slots.ts for how the thread is found).
import { fileURLToPath } from 'node:url';
import type { MessagePort } from 'node:worker_threads';
import { Piscina } from 'piscina';
import type { PoolWorkerCommand, RetiredAnswer, RetireNotice, RouteGatewayRequest, TaskEnvelope, TaskResults, WorkerPortMessage, WorkerSettings, WorkerTask } from './protocol.js';
import { TaskFailure } from './task-failure.js';
import { isSlotsAnnouncement, SlotDirectory, TASKS_PER_WORKER } from './running-slots.js';

export interface StatelessPoolOptions {
  maxThreads: number;
  minThreads: number;
  idleTimeoutMs: number;
  maxQueue: number;
  /** The tier started at once with minThreads; other tiers start on first use. */
  defaultMemoryMb: number;
  /** The same for every tier; each tier adds its memoryMb. */
  worker: Omit<WorkerSettings, 'memoryMb'>;
  /** Serves ctx.instance(id).call() and ctx.invoke() made inside pool workers. */
  routeRequest: RouteGatewayRequest;
  /** How long a cancelled task may take to end on its own before its thread is terminated. */
  cancelGraceMs: number;
  /** Hears why a thread was retired and whose code it blames (see worker-faults.ts). */
  onRetire?: (notice: RetireNotice) => void;
}

export interface RunOptions {
  memoryMb: number;
  timeoutMs: number;
  /** Nesting depth: 0 for a call from outside, one more for each ctx.invoke(). */
  depth?: number;
  /** Cancels the task: its ctx.signal is aborted, and its thread stopped after the grace period. */
  signal?: AbortSignal;
}

export interface TierStats {
  memoryMb: number;
  depth: number;
  threads: number;
  /** Threads running a task now. */
  busy: number;
  queued: number;
  completed: number;
  /** Every thread the tier may have is busy and tasks wait: a call now waits for a thread. */
  saturated: boolean;
}

/** How often a retiring thread is looked at until its task ends. */
const RETIRE_POLL_MS = 5;

function isRetired(value: unknown): value is RetiredAnswer {
  return typeof value === 'object' && value !== null && (value as Partial<RetiredAnswer>).retired === true;
}

// A path, not a file: URL: Piscina converts URLs on every run() call.
const WORKER_FILE = fileURLToPath(new URL('./worker-entry.js', import.meta.url));

/** How often a cancelled task that no thread had started is looked for on the threads. */
const LATE_STOP_POLL_MS = 50;

export class StatelessPool {
  readonly #options: StatelessPoolOptions;
  readonly #tiers = new Map<string, { memoryMb: number; depth: number; piscina: Piscina }>();
  readonly #slots = new SlotDirectory();
  /** Each live worker's side channel, by thread id. */
  readonly #ports = new Map<number, MessagePort>();
  #closing: Promise<void> | undefined;
  /**
   * Task attempts not yet answered, by tier: those not running wait for a thread. (Piscina's
   * queueSize misses a task handed to a thread that is still starting.)
   */
  readonly #inFlight = new Map<Piscina, number>();
  /** Task attempts not yet answered; close() waits for them. */
  #unsettled = 0;
  #onIdle: (() => void) | undefined;

  constructor(options: StatelessPoolOptions) {
    this.#options = options;
    this.#tier(options.defaultMemoryMb, 0);
  }

  run<K extends WorkerTask['kind']>(task: Extract<WorkerTask, { kind: K }>, options: RunOptions): Promise<TaskResults[K]> {
    if (this.#closing) return Promise.reject(new TaskFailure('closed', 'the pool is shutting down'));
    if (options.signal?.aborted) return Promise.reject(new TaskFailure('cancelled', 'the task was cancelled before it started'));
    const deadlineAt = Date.now() + options.timeoutMs;
    return this.#submit(this.#tier(options.memoryMb, options.depth ?? 0), task, options, deadlineAt) as Promise<TaskResults[K]>;
  }

  /**
   * Hands the task to Piscina and races it against its deadline. At the deadline the caller
   * gets its answer at once and the thread running the task, if it has started, is terminated
   * (Piscina replaces it); a task still queued is skipped by the worker when it comes up.
   */
  #submit(tier: Piscina, task: WorkerTask, options: RunOptions, deadlineAt: number): Promise<unknown> {
    const seq = this.#slots.nextSeq();
    const envelope: TaskEnvelope = { seq, deadlineAt, task };
    // Counted until answered; a re-run is counted before its first attempt is uncounted.
    this.#unsettled++;
    this.#inFlight.set(tier, (this.#inFlight.get(tier) ?? 0) + 1);
    return new Promise((resolve, reject) => {
      let answered = false;
      let graceTimer: NodeJS.Timeout | undefined;
      let lateStop: NodeJS.Timeout | undefined;
      // The caller is answered once: by the worker, the deadline or a cancellation, whichever is
      // first. settle() runs before the count drops, so a re-run is counted before its first
      // attempt is uncounted and close() never sees a false zero.
      const answer = (settle: () => void) => {
        if (answered) return;
        answered = true;
        options.signal?.removeEventListener('abort', onCancel);
        settle();
        this.#inFlight.set(tier, this.#inFlight.get(tier)! - 1);
        this.#settled();
      };
      // Stops the thread running the task, if it runs now (Piscina replaces the thread).
      const stopThread = () => this.#stopThreadRunning(tier, seq);
      // The deadline stays armed until the worker is done with the task, even after a cancel
      // has answered the caller: a task that starts anyway is still stopped at its deadline.
      const deadline = setTimeout(() => {
        stopThread();
        answer(() => reject(new TaskFailure('timeout', `the task ran past its ${options.timeoutMs} ms deadline`)));
      }, deadlineAt - Date.now());
      const cancelled = () => new TaskFailure('cancelled', 'the task was cancelled');
      const onCancel = () => {
        // The thread running the task is told; if none has started it, every thread of the tier
        // is, since any may pick it up (and skips it then). A task that ignores the cancel, or
        // that started while the message was on its way, is stopped after the grace period.
        const threadId = this.#slots.threadRunning(seq);
        const threads = threadId === undefined ? tier.threads.map((worker) => worker.threadId) : [threadId];
        for (const thread of threads) this.#command(thread, { op: 'cancel', taskSeq: seq });
        graceTimer = setTimeout(() => {
          stopThread();
          answer(() => reject(cancelled()));
          // Not started yet (its thread still booting, say, so no thread had the cancel): a
          // thread may still pick it up and run it to its deadline. Stopped as soon as one does.
          if (this.#slots.threadRunning(seq) === undefined) {
            lateStop = setInterval(() => {
              if (this.#slots.threadRunning(seq) === undefined) return;
              stopThread();
              clearInterval(lateStop);
            }, LATE_STOP_POLL_MS);
          }
        }, this.#options.cancelGraceMs);
      };
      options.signal?.addEventListener('abort', onCancel, { once: true });
      tier.run(envelope).then(
        (value) => {
          clearTimeout(deadline);
          clearTimeout(graceTimer);
          clearInterval(lateStop);
          // A worker answers null only for a task it skipped: past its deadline (answered
          // already) or cancelled before it started. A retiring worker turns a task away
          // unrun: it goes to another thread in what time it has left.
          if (isRetired(value)) answer(() => resolve(this.#submit(tier, task, options, deadlineAt)));
          else answer(() => (value === null ? reject(cancelled()) : resolve(value)));
        },
        (err: unknown) => {
          clearTimeout(deadline);
          clearTimeout(graceTimer);
          clearInterval(lateStop);
          // A task that had not started when its thread died (another task on that thread
          // crashed it or ran out of time) is blameless: it runs again in what time it has left.
          const blameless = this.#threadDied(err) && this.#slots.threadRunning(seq) === undefined;
          answer(() => (blameless ? resolve(this.#submit(tier, task, options, deadlineAt)) : reject(this.#explain(err, options))));
        },
      );
    });
  }

  /** Makes Piscina start a thread for its queue: it does so for a task run when one is missing. */
  #wakeTier(tier: Piscina): void {
    const envelope: TaskEnvelope = { seq: this.#slots.nextSeq(), deadlineAt: Date.now() + 60_000, task: { kind: 'stats' } };
    tier.run(envelope).catch(() => {});
  }

  #stopThreadRunning(tier: Piscina, seq: number): void {
    const threadId = this.#slots.threadRunning(seq);
    if (threadId === undefined) return;
    void tier.threads.find((worker) => worker.threadId === threadId)?.terminate();
  }

  #threadDied(err: unknown): boolean {
    return !this.#closing && err instanceof Error && (err.message.startsWith('worker exited') || (err as { code?: unknown }).code === 'ERR_WORKER_OUT_OF_MEMORY');
  }

  #command(threadId: number, command: PoolWorkerCommand): void {
    this.#ports.get(threadId)?.postMessage(command);
  }

  stats(): TierStats[] {
    return [...this.#tiers.values()].map(({ memoryMb, depth, piscina: tier }) => {
      const busy = tier.threads.filter((worker) => this.#slots.busy(worker.threadId)).length;
      return {
        memoryMb,
        depth,
        threads: tier.threads.length,
        busy,
        queued: Math.max(0, (this.#inFlight.get(tier) ?? 0) - busy),
        completed: tier.completed,
        saturated: busy >= this.#options.maxThreads && (this.#inFlight.get(tier) ?? 0) > busy,
      };
    });
  }

  /**
   * Stops a thread once it runs nothing (its worker asked: see worker-faults.ts); Piscina
   * replaces it. A task handed to it meanwhile is turned away by the worker or, if the thread
   * goes first, was not started and runs again elsewhere.
   */
  #retire(tier: Piscina, threadId: number): void {
    const worker = tier.threads.find((thread) => thread.threadId === threadId);
    if (!worker) return;
    if (this.#slots.busy(threadId)) {
      setTimeout(() => this.#retire(tier, threadId), RETIRE_POLL_MS).unref();
      return;
    }
    void worker.terminate();
  }

  get maxThreadsPerTier(): number {
    return this.#options.maxThreads;
  }

  /** Lets running tasks finish, then stops every thread. Idempotent. */
  close(): Promise<void> {
    // Not Piscina's close(): it waits for every worker to report its tasks done, and a worker
    // terminated at a deadline just before never does, so close() would wait forever. Our own
    // count of unsettled runs says when the work is over; then the threads are stopped.
    this.#closing ??= this.#idle().then(() => this.destroy());
    return this.#closing;
  }

  /** Stops every thread now; running tasks fail. */
  async destroy(): Promise<void> {
    this.#closing ??= Promise.resolve();
    await Promise.all([...this.#tiers.values()].map((tier) => tier.piscina.destroy()));
  }

  #idle(): Promise<void> {
    if (this.#unsettled === 0) return Promise.resolve();
    return new Promise((resolve) => {
      this.#onIdle = resolve;
    });
  }

  #settled(): void {
    if (--this.#unsettled === 0) this.#onIdle?.();
  }

  #tier(memoryMb: number, depth: number): Piscina {
    const key = `${memoryMb}/${depth}`;
    let tier = this.#tiers.get(key)?.piscina;
    if (!tier) {
      const o = this.#options;
      tier = new Piscina({
        filename: WORKER_FILE,
        maxThreads: o.maxThreads,
        minThreads: memoryMb === o.defaultMemoryMb && depth === 0 ? Math.min(o.minThreads, o.maxThreads) : 0,
        idleTimeout: o.idleTimeoutMs,
        maxQueue: o.maxQueue,
        concurrentTasksPerWorker: TASKS_PER_WORKER,
        // Piscina's timing histograms cost three clock reads and two records per task.
        recordTiming: false,
        resourceLimits: { maxOldGenerationSizeMb: memoryMb },
        workerData: { ...o.worker, memoryMb } satisfies WorkerSettings,
        // Workers start clean: no loaders or flags inherited from the gateway's command line,
        // and none of the gateway's environment (it may hold tokens).
        execArgv: [],
        env: {},
      });
      // A dying thread also emits 'error' on the pool; the task that ran on it is rejected
      // and reported through run(), so the event needs no handling beyond not crashing us.
      tier.on('error', () => {});
      tier.on('message', (message: unknown) => {
        if (!isSlotsAnnouncement(message)) return;
        this.#slots.add(message);
        const port = message.gatewayPort;
        this.#ports.set(message.threadId, port);
        const threadId = message.threadId;
        port.on('message', (request: WorkerPortMessage) => {
          if (request.kind === 'retire') {
            this.#options.onRetire?.(request);
            this.#retire(tier!, threadId);
            return;
          }
          void this.#options.routeRequest(request).then((outcome) => port.postMessage({ op: 'reply', seq: request.seq, outcome } satisfies PoolWorkerCommand));
        });
        port.unref();
      });
      // Forgotten only after the rejections of the dead thread's tasks have been handled: they
      // read its slots to tell a task that was running from one that never started.
      tier.on('workerDestroy', (worker: { id: number }) => {
        const { id } = worker;
        setImmediate(() => {
          this.#slots.remove(id);
          this.#ports.delete(id);
          // Piscina queues a task given while every thread was busy, and when a thread dies
          // it only tops the tier up to minThreads (0 for most tiers): a task queued behind a
          // thread that was being stopped would wait forever. Any new run() starts a thread.
          if (tier!.queueSize > 0 && !this.#closing) this.#wakeTier(tier!);
        });
      });
      this.#tiers.set(key, { memoryMb, depth, piscina: tier });
    }
    return tier;
  }

  #explain(err: unknown, options: RunOptions): TaskFailure {
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
