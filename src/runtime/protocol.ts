// The thread protocol: every message between the gateway thread and a pool worker. Both sides
// import only these types, so a change to the protocol is a change to this one file.
import type { SerializedError } from '../errors.js';
import type { ModuleExports } from '../store/records.js';

/** Fixed for the life of a worker; passed as workerData. */
export interface WorkerSettings {
  moduleCacheEntries: number;
  moduleCacheBytes: number;
  resultBytes: number;
}

/** Which code to run: the digest keys the worker's module cache, the path is where to read it. */
export interface CodeRef {
  digest: string;
  codePath: string;
  /** Shown in stack traces, e.g. "hello@3". */
  label: string;
}

export interface InvocationMeta {
  invocationId: string;
  function: string;
  version: number;
  attempt: number;
  timeoutMs: number;
}

export interface WireRequest {
  method: string;
  url: string;
  headers: [string, string][];
  body: Uint8Array | null;
}

export interface WireResponse {
  status: number;
  statusText: string;
  headers: [string, string][];
  body: Uint8Array;
}

export type WorkerTask =
  | { kind: 'load'; code: CodeRef }
  | { kind: 'invoke'; code: CodeRef; meta: InvocationMeta; input: unknown }
  | { kind: 'fetch'; code: CodeRef; meta: InvocationMeta; request: WireRequest }
  | { kind: 'stats' };

/**
 * What the pool hands a worker: the task, a sequence number the worker records while it runs the
 * task (so the gateway can find its thread at the deadline), and the deadline itself (epoch ms)
 * so a task that waited past it in a queue is skipped rather than run.
 */
export interface TaskEnvelope {
  seq: number;
  deadlineAt: number;
  task: WorkerTask;
}

/** What a module's load reports: its exports and its `export const config`, if any. */
export interface LoadReport {
  exports: ModuleExports;
  config: unknown;
}

export interface WorkerStats {
  cachedModules: number;
  cachedBytes: number;
  heapUsedBytes: number;
}

/**
 * Where a failure happened. `load`: evaluating the module; `handler`: the user's handler threw;
 * `result`: the handler's value cannot be sent back (not JSON, too large).
 */
export type FailurePhase = 'load' | 'handler' | 'result';

export type Outcome<T> = { ok: true; value: T } | { ok: false; phase: FailurePhase; error: SerializedError };

export interface TaskResults {
  load: Outcome<LoadReport>;
  /** The handler's return value as JSON text. */
  invoke: Outcome<string>;
  fetch: Outcome<WireResponse>;
  stats: WorkerStats;
}

// ---- Instance threads: one dedicated Worker per stateful instance. ----

/** What an instance thread is told first: construct anew, or restore a checkpoint. */
export interface InstanceStart {
  code: CodeRef;
  className: string;
  instanceId: string;
  /** Constructor arguments; unused when `checkpoint` is set. */
  args: unknown[];
  /** v8-serialized state to restore without running the constructor. */
  checkpoint: Uint8Array | null;
  resultBytes: number;
}

/** Where an instance failure happened, beyond the phases every task shares. */
export type InstanceFailurePhase = FailurePhase | 'class' | 'init' | 'method' | 'checkpoint';

export type InstanceOutcome<T> = { ok: true; value: T } | { ok: false; phase: InstanceFailurePhase; error: SerializedError };

/** Gateway → instance thread. Calls and checkpoints share one mailbox and run in arrival order. */
export type InstanceCommand =
  | { op: 'init'; start: InstanceStart }
  | { op: 'call'; seq: number; method: string; args: unknown[]; chain: string[] }
  | { op: 'checkpoint'; seq: number }
  | { op: 'reply'; seq: number; outcome: InstanceOutcome<string> };

/** Instance thread → gateway. */
export type InstanceEvent =
  | { op: 'ready'; outcome: InstanceOutcome<null> }
  | { op: 'result'; seq: number; outcome: InstanceOutcome<string> }
  | { op: 'checkpoint'; seq: number; outcome: InstanceOutcome<Uint8Array> }
  | { op: 'call-instance'; request: InstanceCallRequest };

/** A call one function or instance makes to an instance through ctx.instance(id).call(). */
export interface InstanceCallRequest {
  seq: number;
  target: string;
  method: string;
  args: unknown[];
  /** Instances the calling chain is already waiting on; the target must not be one of them. */
  chain: string[];
}

/** The gateway's answer to an InstanceCallRequest. */
export interface InstanceCallReply {
  seq: number;
  outcome: InstanceOutcome<string>;
}
