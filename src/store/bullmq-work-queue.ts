// The work queue on BullMQ: one BullMQ queue per name, under the store's key prefix. Jobs carry
// nothing but their id. A handler's "look again later" moves its job to BullMQ's delayed set
// (DelayedError: no attempt of BullMQ's is spent; Wisp's own retry policy counts attempts in the
// invocation record). A node that dies holding jobs stops renewing their locks; another node's
// stalled-job check puts them back to wait, never failing them (Wisp counts cut-off attempts).
import { DelayedError, Queue, Worker, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import type { ConsumeOptions, JobNext, WorkQueue } from './work-queue.js';

/** BullMQ gives up a job found stalled more than this many times; Wisp decides instead (cut-off-attempts.ts). */
const NEVER_GIVE_UP = 1_000_000;

/** How long a handler's failure to decide (the store unreachable) waits before the job is looked at again. */
const AFTER_FAILURE_MS = 1000;

const jobOptions = (id: string, delayMs: number) => ({ jobId: id, delay: Math.max(0, Math.ceil(delayMs)), removeOnComplete: true, removeOnFail: true });

export class BullmqWorkQueue implements WorkQueue {
  readonly #prefix: string;
  /** For adding jobs: fails fast while Redis is unreachable, as every store operation does. */
  readonly #client: Redis;
  /** For workers: BullMQ wants blocking commands to wait for a reconnection instead of failing. */
  readonly #workerClient: Redis;
  readonly #queues = new Map<string, Queue>();
  readonly #workers = new Map<string, Worker>();
  readonly #log: (message: string) => void;
  #reported = false;
  #closing = false;
  #closed = false;

  constructor(client: Redis, storePrefix: string, log: (message: string) => void) {
    this.#client = client;
    this.#workerClient = client.duplicate({ maxRetriesPerRequest: null, commandTimeout: undefined });
    // Reported by the store's own connection already; this one must not crash the process.
    this.#workerClient.on('error', () => undefined);
    this.#prefix = `${storePrefix}bull`;
    this.#log = log;
  }

  async add(queue: string, id: string, delayMs: number): Promise<void> {
    if (this.#closed) throw new Error('the work queue is closed');
    await this.#queue(queue).add('invocation', null, jobOptions(id, delayMs));
  }

  async addMany(queue: string, ids: readonly string[], delayMs: number): Promise<void> {
    if (this.#closed) throw new Error('the work queue is closed');
    await this.#queue(queue).addBulk(ids.map((id) => ({ name: 'invocation', data: null, opts: jobOptions(id, delayMs) })));
  }

  async remove(queue: string, id: string): Promise<void> {
    if (this.#closed) return;
    // An active job (one a handler holds) is locked and stays: its handler finds the record final.
    await this.#queue(queue).remove(id).catch(() => 0);
  }

  consume(queue: string, options: ConsumeOptions, handle: (id: string) => Promise<JobNext>): void {
    if (this.#closing || this.#workers.has(queue)) return;
    const worker = new Worker(
      queue,
      async (job: Job, token?: string) => {
        let next: JobNext;
        try {
          next = await handle(job.id!);
        } catch (err) {
          this.#log(`invocation ${job.id}: cannot look at it now (${String(err)}); again in ${AFTER_FAILURE_MS} ms`);
          next = AFTER_FAILURE_MS;
        }
        if (next === null) return;
        await job.moveToDelayed(Date.now() + Math.max(1, Math.ceil(next)), token);
        throw new DelayedError();
      },
      {
        connection: this.#workerClient,
        prefix: this.#prefix,
        concurrency: options.concurrency,
        lockDuration: options.lockMs,
        stalledInterval: options.lockMs,
        maxStalledCount: NEVER_GIVE_UP,
        removeOnComplete: { count: 0 },
        removeOnFail: { count: 0 },
      },
    );
    worker.on('error', (err) => this.#report(`the queue of "${queue}": ${err.message}`));
    this.#workers.set(queue, worker);
  }

  setConcurrency(queue: string, concurrency: number): void {
    const worker = this.#workers.get(queue);
    if (worker && worker.concurrency !== concurrency) worker.concurrency = concurrency;
  }

  stopTaking(): void {
    this.#closing = true;
    for (const worker of this.#workers.values()) void worker.pause(true).catch(() => undefined);
  }

  async close(): Promise<void> {
    this.#closing = true;
    // Closed while its connections still start, BullMQ reports their failure where no one listens.
    const closeReady = async (closable: Worker | Queue) => {
      await closable.waitUntilReady().catch(() => undefined);
      await closable.close();
    };
    await Promise.all([...this.#workers.values()].map(closeReady));
    this.#closed = true;
    await Promise.all([...this.#queues.values()].map(closeReady));
    // quit, not disconnect: a command still on its way (a lock's renewal) gets its answer.
    await this.#workerClient.quit().catch(() => this.#workerClient.disconnect());
    // BullMQ (5.76) stops a worker's stalled-job check only if it is between two checks when
    // the worker closes; one under way sets its next wait (stalledInterval, a lease) after,
    // holding the process that long. Every answer is in now: stop the wait it set.
    await new Promise((resolve) => setImmediate(resolve));
    for (const worker of this.#workers.values()) (worker as unknown as { stalledCheckStopper?: () => void }).stalledCheckStopper?.();
  }

  #queue(name: string): Queue {
    let queue = this.#queues.get(name);
    if (!queue) {
      queue = new Queue(name, { connection: this.#client, prefix: this.#prefix });
      queue.on('error', (err) => this.#report(`the queue of "${name}": ${err.message}`));
      this.#queues.set(name, queue);
    }
    return queue;
  }

  /** Once until the next success would be better; once per outage is what the store does too. */
  #report(message: string): void {
    if (this.#reported) return;
    this.#reported = true;
    this.#log(message);
    setTimeout(() => (this.#reported = false), 10_000).unref();
  }
}
