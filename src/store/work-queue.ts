// Jobs that say "look at this invocation then", in named queues several nodes take from: the
// cluster's asynchronous queue (design §5.5). A job is only a pointer: the invocation store keeps
// the record and its state, and a job's handler reads it. A job's id is the invocation's, so
// adding one that is there already changes nothing; a job taken by a node that dies (it stops
// renewing its lock) is taken again by another. Implementation: BullMQ (bullmq-work-queue.ts).

/** What a handler decided: null, the job is done; a number, look at it again after that many ms. */
export type JobNext = number | null;

export interface ConsumeOptions {
  /** How many jobs of this queue this node works on at once. */
  concurrency: number;
  /** How long a job taken by a node that stopped renewing its lock stays its own. */
  lockMs: number;
}

export interface WorkQueue {
  /** Makes sure `id` has a job in `queue`, due after `delayMs`; one already there stays as it is. */
  add(queue: string, id: string, delayMs: number): Promise<void>;
  /** add() for many ids at once, in one round trip. */
  addMany(queue: string, ids: readonly string[], delayMs: number): Promise<void>;
  /** Drops the job of `id` if it is waiting (a cancelled invocation's): best effort. */
  remove(queue: string, id: string): Promise<void>;
  /** Starts taking the jobs of `queue` (once per queue); `handle` is never given one job twice at once. */
  consume(queue: string, options: ConsumeOptions, handle: (id: string) => Promise<JobNext>): void;
  /** Changes how many jobs of `queue` this node works on at once. */
  setConcurrency(queue: string, concurrency: number): void;
  /** Takes no more jobs on this node; those its handlers hold are still finished. */
  stopTaking(): void;
  /** Stops taking jobs and waits for the handlers running; then closes the connections. */
  close(): Promise<void>;
}
