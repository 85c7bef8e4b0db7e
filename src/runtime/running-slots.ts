// Which task each pool worker is running, in memory both threads can read. Deadlines are enforced
// by the gateway terminating the thread that runs an expired task, without Piscina's abort
// (an abortable task never shares a worker, which halves what a worker can take per round trip).
// Each worker announces one small SharedArrayBuffer at startup and writes the sequence number of
// every task it starts into a free slot, clearing it when the task ends.
import { parentPort, threadId, type MessagePort } from 'node:worker_threads';

/**
 * How many tasks Piscina may hand one worker at once (its concurrentTasksPerWorker). One: a
 * runaway loop blocks its whole thread, and a second task handed to that thread would wait
 * behind it however many threads were free; the pool starts more threads instead.
 */
export const TASKS_PER_WORKER = 1;

/**
 * The message a worker posts to the gateway before it takes any task. It also carries the port
 * the worker's ctx calls and the gateway's cancellations travel on (pool workers have no other
 * channel of their own).
 */
export interface SlotsAnnouncement {
  wispRunningSlots: Int32Array;
  threadId: number;
  gatewayPort: MessagePort;
}

export function isSlotsAnnouncement(message: unknown): message is SlotsAnnouncement {
  return typeof message === 'object' && message !== null && 'wispRunningSlots' in message;
}

/** The worker's side: claim a slot when a task starts, release it when it ends. */
export class WorkerSlots {
  readonly #slots = new Int32Array(new SharedArrayBuffer(4 * TASKS_PER_WORKER));

  announce(gatewayPort: MessagePort): void {
    parentPort?.postMessage({ wispRunningSlots: this.#slots, threadId, gatewayPort } satisfies SlotsAnnouncement, [gatewayPort]);
  }

  /** Records that task `seq` runs here; returns the slot to release. */
  claim(seq: number): number {
    const index = this.#slots.indexOf(0);
    // Piscina never hands a worker more than TASKS_PER_WORKER tasks, so a slot is always free.
    Atomics.store(this.#slots, index, seq);
    return index;
  }

  release(index: number): void {
    Atomics.store(this.#slots, index, 0);
  }
}

/** The gateway's side: every live worker's slots, by thread id. */
export class SlotDirectory {
  readonly #byThread = new Map<number, Int32Array>();
  #nextSeq = 0;

  /** A nonzero sequence number for a new task (0 marks a free slot). */
  nextSeq(): number {
    this.#nextSeq = (this.#nextSeq % 0x7fffffff) + 1;
    return this.#nextSeq;
  }

  add(announcement: SlotsAnnouncement): void {
    this.#byThread.set(announcement.threadId, announcement.wispRunningSlots);
  }

  remove(threadId: number): void {
    this.#byThread.delete(threadId);
  }

  /** Whether the thread runs a task now. */
  busy(threadId: number): boolean {
    const slots = this.#byThread.get(threadId);
    if (!slots) return false;
    for (let i = 0; i < slots.length; i++) if (Atomics.load(slots, i) !== 0) return true;
    return false;
  }

  /** The thread running task `seq`, if it has started and not yet ended. */
  threadRunning(seq: number): number | undefined {
    for (const [threadId, slots] of this.#byThread) {
      for (let i = 0; i < slots.length; i++) if (Atomics.load(slots, i) === seq) return threadId;
    }
    return undefined;
  }
}
