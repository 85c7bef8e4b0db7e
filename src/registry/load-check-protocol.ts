// The process protocol of the deploy-time load check: what the gateway (module-inspector.ts,
// through load-check-child.ts) hands load-check-entry.ts (a disposable child process) and what the
// child answers. The request goes in argv; the answers come back as JSON lines on a pipe of their
// own (ANSWER_FD), which the gateway reads with a byte cap. Node's IPC channel is not used: the parent would buffer whatever
// the child sends on it, without a bound, before it could look at it.
import type { SerializedError } from '../errors.js';
import type { CodeRef, LoadReport } from '../runtime/protocol.js';

/** The child's file descriptor for answers: stdio[3]. */
export const ANSWER_FD = 3;

/** The most the gateway reads from the answer pipe; a real answer is far smaller. */
export const MAX_ANSWER_BYTES = 64 * 1024;

/** The child gives up on an answer larger than this and says so instead. */
export const MAX_REPORT_BYTES = 32 * 1024;

export interface LoadCheckRequest {
  code: CodeRef;
  /** The gateway's pid: the child kills itself once its parent is no longer that process. */
  parentPid: number;
  /** The heap cap (set with --max-old-space-size), and the bound of Buffer memory after the load. */
  memoryMb: number;
  /** The bound of the whole process's resident memory while the module loads. */
  rssLimitMb: number;
  /** How long after it started the child kills itself whatever happens: a backstop for the gateway's deadline. */
  selfDeadlineMs: number;
}

/**
 * One line each. `ready`: the child is up and starts the load (the gateway's deadline counts from
 * here, not from the process's start). Then exactly one of the others. `loaded`: the module's
 * report. `threw`: its top level threw. `memory`: it held more than it may (`rss` while loading,
 * `external` Buffer memory after). `unreadable`: the report cannot be sent (its config is not
 * JSON, or too large).
 */
export type LoadCheckAnswer =
  | { kind: 'ready' }
  | { kind: 'loaded'; report: LoadReport }
  | { kind: 'threw'; error: SerializedError }
  | { kind: 'memory'; measure: 'rss' | 'external'; usedMb: number; limitMb: number }
  | { kind: 'unreadable'; message: string };
