// What runs the asynchronous queue, as the rest of Wisp sees it: told of each invocation that
// is stored waiting, it runs it when due. Two engines: the store's own queue (dispatcher.ts, the
// embedded backend) and BullMQ on Redis (job-dispatcher.ts, the cluster backend).
import type { InvocationRecord } from '../store/records.js';
import type { AttemptRunner } from './attempt-runner.js';

export interface Dispatch {
  /**
   * `record` was stored waiting (submitted, or run again): it runs when due. Resolves once the
   * engine has it durably, so that an acknowledgement sent after it is kept.
   */
  queued(record: InvocationRecord): Promise<void>;
  /** Many stored waiting at once (a batch's members, all of one function): as queued, in one step. */
  queuedMany(records: readonly InvocationRecord[]): Promise<void>;
  /** The attempts running on this node: whether one is about to end, and stopping one. */
  readonly attempts: Pick<AttemptRunner, 'isEnding' | 'abort'>;
  /** A waiting invocation was ended outside an attempt (cancelled): told as one ended here is. */
  ended(record: InvocationRecord): void;
  /** At the start: takes back attempts cut off by an earlier incarnation, and starts taking work. */
  recover(): Promise<void>;
  /** Stops taking new work; running attempts still finish and are recorded. */
  close(): Promise<void>;
}
