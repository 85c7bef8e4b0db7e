// The thread protocol: every message between the gateway thread and a pool worker. Both sides
// import only these types, so a change to the protocol is a change to this one file.
import type { SerializedError } from '../errors.js';
import type { LogEntry, ModuleExports } from '../store/records.js';

/** Fixed for the life of a worker; passed as workerData. */
export interface WorkerSettings {
  moduleCacheEntries: number;
  moduleCacheBytes: number;
  resultBytes: number;
  /** What a ctx.invoke() input or ctx.instance().call() arguments may hold (the request body limit). */
  inputBytes: number;
  /** What one invocation's console output may hold. */
  logBytes: number;
  /** The tier's memory limit: the heap cap, and the bound of the off-heap watchdog. */
  memoryMb: number;
  memoryCheckIntervalMs: number;
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
  /** 0 for a call from outside; a ctx.invoke() call is one deeper than its caller. */
  depth: number;
  /** Whether the call tree this call belongs to is kept in the durable store (it began async). */
  durable: boolean;
  /** The function's secrets; absent when it has none. */
  env?: Readonly<Record<string, string>>;
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
 * `result`: the handler's value cannot be sent back (not JSON, too large); `memory`: the call held
 * more Buffer memory than its limit; `uncaught`: its code threw from a callback or left a promise
 * rejection unhandled while it ran. After the last two its thread is retired.
 */
export type FailurePhase = 'load' | 'handler' | 'result' | 'memory' | 'uncaught';

export type Outcome<T> = { ok: true; value: T } | { ok: false; phase: FailurePhase; error: SerializedError };

/** An outcome with what the handler wrote to console.* while it ran (bounded; see log-capture.ts). */
export type LoggedOutcome<T> = Outcome<T> & { logs: LogEntry[] };

export interface TaskResults {
  /** The handler's return value as JSON text. */
  invoke: LoggedOutcome<string>;
  fetch: LoggedOutcome<WireResponse>;
  stats: WorkerStats;
}

// ---- The side channel of a pool worker: its own MessagePort to the gateway thread. ----

/** ctx.invoke(name, input) inside a pool worker: a call to another function, run by the gateway. */
export interface NestedInvokeRequest {
  kind: 'invoke';
  seq: number;
  name: string;
  input: unknown;
  /** A lower bound of the input's JSON size, measured in the worker (see json-size.ts). */
  inputBytes?: number;
  parent: InvocationMeta;
}

/** What a worker asks the gateway for: a call to an instance, or a nested function call. */
export type GatewayRequest = InstanceCallRequest | NestedInvokeRequest;

/** The call a fault is blamed on. */
export interface Culprit {
  function: string;
  version: number;
  invocationId: string;
}

/**
 * A pool worker asks to be stopped once it runs nothing: code on it threw outside any call (a
 * leaked timer), changed a built-in, or holds too much memory. `culprit` is whose code did it.
 */
export interface RetireNotice {
  kind: 'retire';
  reason: string;
  culprit: Culprit | null;
}

/** Everything a pool worker sends on its side port. */
export type WorkerPortMessage = GatewayRequest | RetireNotice;

/** A retiring worker's answer to a task it will not run: the pool runs the task on another thread. */
export interface RetiredAnswer {
  retired: true;
}

/** Gateway → pool worker: the answer to a GatewayRequest, or the cancellation of a task. */
export type PoolWorkerCommand = ({ op: 'reply' } & InstanceCallReply) | { op: 'cancel'; taskSeq: number };

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
  /** The instance's memory limit, for the off-heap watchdog (the heap cap is set on the thread). */
  memoryMb: number;
  memoryCheckIntervalMs: number;
  /** The function's secrets, as ctx.env. */
  env: Readonly<Record<string, string>>;
  /** What one call's (or the constructor's) console output may hold. */
  logBytes: number;
  /** The most a checkpoint may hold, measured before it is serialized (see checkpoint-size.ts). */
  checkpointBytes: number;
}

/** Where an instance failure happened, beyond the phases every task shares. */
export type InstanceFailurePhase = FailurePhase | 'class' | 'init' | 'method' | 'checkpoint';

export type InstanceOutcome<T> = { ok: true; value: T } | { ok: false; phase: InstanceFailurePhase; error: SerializedError };

/** An instance outcome with what the constructor or method wrote to console.* (bounded). */
export type LoggedInstanceOutcome<T> = InstanceOutcome<T> & { logs: LogEntry[] };

/** Gateway → instance thread. Calls and checkpoints share one mailbox and run in arrival order. */
export type InstanceCommand =
  | { op: 'init'; start: InstanceStart }
  | { op: 'call'; seq: number; method: string; args: unknown[]; chain: string[]; attempt: number }
  | { op: 'checkpoint'; seq: number }
  | { op: 'socket'; seq: number; event: SocketDelivery }
  | { op: 'reply'; seq: number; outcome: InstanceOutcome<string> };

/**
 * What happened on a client's WebSocket to the instance, delivered through the mailbox in order
 * with its calls: to webSocketOpen, webSocketMessage (text as a string, binary as bytes) or
 * webSocketClose.
 */
export type SocketDelivery =
  | { kind: 'open'; socketId: string }
  | { kind: 'message'; socketId: string; data: string | Uint8Array }
  | { kind: 'close'; socketId: string; code: number; reason: string };

/** What an instance does to a client's WebSocket, from any of its methods. */
export type SocketAction = { op: 'socket-send'; socketId: string; data: string | Uint8Array } | { op: 'socket-close'; socketId: string; code: number; reason: string };

/** Instance thread → gateway. */
export type InstanceEvent =
  | { op: 'ready'; outcome: LoggedInstanceOutcome<null>; acceptsSockets: boolean }
  | { op: 'result'; seq: number; outcome: LoggedInstanceOutcome<string> }
  | { op: 'socket-done'; seq: number; outcome: LoggedInstanceOutcome<null> }
  | { op: 'checkpoint'; seq: number; outcome: InstanceOutcome<Uint8Array> }
  | { op: 'call-instance'; request: GatewayRequest }
  | SocketAction;

/** How the gateway serves a GatewayRequest from any worker. */
export type RouteGatewayRequest = (request: GatewayRequest) => Promise<InstanceOutcome<string>>;

/** A call one function or instance makes to an instance through ctx.instance(id).call(). */
export interface InstanceCallRequest {
  kind: 'instance';
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
