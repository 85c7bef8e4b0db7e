// Entry file of an instance thread: one Worker per stateful instance. It constructs the instance
// (or restores it from a checkpoint without running the constructor), then runs the commands of
// its mailbox one at a time in arrival order: a method call, async or not, ends before the next
// command starts. Failures go back as outcomes; the thread dies only of a crash or a terminate.
// The thread boots before it knows its instance (see warm-threads.ts) and learns it from an
// 'init' command. It runs as one bundled CommonJS file: it boots ~7 ms sooner than an ESM graph.
// console.* is captured per call (and for the constructor) into a bounded buffer that goes back
// with the outcome; nothing user code prints with it reaches the gateway's stdout.
import { parentPort } from 'node:worker_threads';
import { deserialize, serialize } from 'node:v8';
import { fail as failure, toJson as toJsonOutcome } from './task-outcome.js';
import { watchOffHeapMemory } from './memory-watchdog.js';
import { captureConsole, LogBuffer, withLogs } from './log-capture.js';
import { stateSizeAtLeast } from './checkpoint-size.js';
import { GatewayClient, type InstanceHandle } from './gateway-client.js';
import { loadModule, warmUpLoader, type LoadedModule } from './module-loader.js';
import type { InstanceCommand, InstanceEvent, InstanceFailurePhase, InstanceOutcome, InstanceStart, LoggedInstanceOutcome, SocketDelivery } from './protocol.js';
import { handles, type SocketData, type WispSocket } from './socket-handles.js';

type Instance = Record<string, unknown>;
type InstanceClass = new (...args: unknown[]) => Instance;
type Failure = Extract<InstanceOutcome<never>, { ok: false }>;

/**
 * An instance's `this.ctx`: a non-enumerable getter put on the class's prototype (unless the class
 * has its own `ctx`), so it is there in the constructor, stays out of checkpoints, and leaves the
 * arguments of constructors and methods exactly as the caller sent them.
 */
export interface InstanceContext {
  readonly instanceId: string;
  readonly function: string;
  /** The function's secrets as they were when this thread started. */
  readonly env: Readonly<Record<string, string>>;
  instance(id: string): InstanceHandle;
  /** The clients' WebSockets open to this instance now (GET /v1/instances/{id}/ws). */
  sockets(): WispSocket[];
  socket(id: string): WispSocket | undefined;
  /** Sends to every open socket (but `except`); returns how many it went to. */
  broadcast(data: SocketData, except?: WispSocket | string): number;
}

let start: InstanceStart;
const port = parentPort!;
// What this thread sends while one command runs goes as one message (an array): a socket
// handler's sends with its outcome, and those of the socket frames handled back to back after it.
// It is flushed before any other command starts, so a method call's answer never waits for the
// command after it (whose run would then count against the first one's deadline), when the
// mailbox is empty, and at the end of the turn for what a timer or promise of the instance's
// sends. A message with bytes to move (a checkpoint) goes at once, after what was waiting.
let outbox: InstanceEvent[] = [];
const flush = () => {
  const batch = outbox;
  outbox = [];
  if (batch.length > 0) port.postMessage(batch.length === 1 ? batch[0] : batch);
};
const postNow = (event: InstanceEvent, transfer: ArrayBuffer[] = []) => {
  flush();
  port.postMessage(event, transfer);
};
const post = (event: InstanceEvent, transfer: ArrayBuffer[] = []) => {
  if (transfer.length > 0) postNow(event, transfer);
  else if (outbox.push(event) === 1) setImmediate(flush);
};
handles.connect(post);
// Posted at once (after what was waiting): an argument that cannot be cloned then fails the call
// that sent it, not a later flush of everything.
const client = new GatewayClient((request) => postNow({ op: 'call-instance', request }));
const mailbox: InstanceCommand[] = [];
// Held until the instance exists; commands that arrive sooner wait in the mailbox.
let draining = true;
let loaded: LoadedModule | undefined;
let instance: Instance;
captureConsole();
// Output from code that runs outside any call's scope is dropped, never printed raw: scopes
// opened below (per call, and for the constructor) take precedence over this one.
const stray = new LogBuffer(0, 0);
// While the thread waits for its instance, not when the create that takes it is waiting.
warmUpLoader();

const fail = (phase: InstanceFailurePhase, err: unknown): Failure => failure(phase, err, loaded);

// The chain of the call running now. Calls run one at a time, so one variable is enough.
let currentChain: string[] = [];

const context: InstanceContext = {
  get instanceId() {
    return start.instanceId;
  },
  get function() {
    return start.code.label.split('@')[0]!;
  },
  get env() {
    return start.env;
  },
  instance: (id) => client.handle(id, [...currentChain, start.instanceId]),
  sockets: () => handles.all(),
  socket: (id) => handles.get(id),
  broadcast: (data, except) => handles.broadcast(data, except),
};

async function init(): Promise<InstanceOutcome<null>> {
  let Class: InstanceClass;
  try {
    loaded = loadModule(start.code);
    Class = loaded.exports[start.className] as InstanceClass;
  } catch (err) {
    return fail('load', err);
  }
  if (typeof Class !== 'function') return fail('class', new TypeError(`the module exports no class "${start.className}"`));
  if (!('ctx' in Class.prototype)) Object.defineProperty(Class.prototype, 'ctx', { get: () => context, configurable: true });
  try {
    if (start.checkpoint) {
      const state: unknown = deserialize(start.checkpoint);
      // The serialized copy would otherwise stay as Buffer memory for the thread's whole life.
      start.checkpoint = null;
      instance = Object.create(Class.prototype) as Instance;
      if (typeof instance.restore === 'function') await (instance.restore as (state: unknown) => unknown)(state);
      else Object.assign(instance, state);
    } else {
      instance = new Class(...start.args);
    }
  } catch (err) {
    return fail('init', err);
  }
  return { ok: true, value: null };
}

// Object.prototype's members (toString, hasOwnProperty, ...) are not the class's methods.
// The socket handlers are the gateway's to call, with a real socket: no caller may fake one.
const NOT_METHODS = new Set([...Object.getOwnPropertyNames(Object.prototype), 'snapshot', 'restore', 'ctx', 'webSocketOpen', 'webSocketMessage', 'webSocketClose']);

function isPublicMethodName(name: string): boolean {
  return !name.startsWith('_') && !name.startsWith('#') && !NOT_METHODS.has(name);
}

const toJson = (value: unknown): InstanceOutcome<string> => toJsonOutcome(value, start.resultBytes, loaded);

/** Runs `fn` with console output captured into a bounded buffer that comes back with its outcome. */
async function logged<T>(attempt: number, fn: () => Promise<InstanceOutcome<T>>): Promise<LoggedInstanceOutcome<T>> {
  const logs = new LogBuffer(attempt, start.logBytes);
  const outcome = await withLogs(logs, fn);
  return { ...outcome, logs: logs.drain() };
}

async function call(method: string, args: unknown[], chain: string[]): Promise<InstanceOutcome<string>> {
  const fn = isPublicMethodName(method) ? instance[method] : undefined;
  if (typeof fn !== 'function') {
    const why = isPublicMethodName(method) ? 'has no method' : 'does not expose the private or reserved name';
    return fail('method', new TypeError(`class ${start.className} ${why} "${method}"`));
  }
  let value: unknown;
  currentChain = chain;
  try {
    value = await (fn as (...a: unknown[]) => unknown).apply(instance, args);
  } catch (err) {
    return fail('handler', err);
  } finally {
    currentChain = [];
  }
  return toJson(value);
}

const ownBuffer = (bytes: Uint8Array): ArrayBuffer =>
  bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength ? (bytes.buffer as ArrayBuffer) : (bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer);

/**
 * A client's socket event, to the class's handler for it. A class without webSocketMessage never
 * gets sockets (the gateway refuses the upgrade); webSocketOpen and webSocketClose are optional.
 */
async function socketEvent(event: SocketDelivery): Promise<InstanceOutcome<null>> {
  let socket: WispSocket | undefined;
  let handler: string;
  let args: unknown[];
  if (event.kind === 'open') {
    socket = handles.opened(event.socketId);
    [handler, args] = ['webSocketOpen', []];
  } else if (event.kind === 'message') {
    socket = handles.get(event.socketId);
    // Binary frames arrive as an ArrayBuffer of their own, as in the browser's WebSocket.
    const data = typeof event.data === 'string' ? event.data : ownBuffer(event.data);
    [handler, args] = ['webSocketMessage', [data]];
  } else {
    socket = handles.closed(event.socketId);
    [handler, args] = ['webSocketClose', [event.code, event.reason]];
  }
  const fn = instance[handler];
  // A socket the instance closed itself gets nothing more; a handler the class lacks is skipped.
  if (!socket || typeof fn !== 'function') return { ok: true, value: null };
  try {
    await (fn as (...a: unknown[]) => unknown).apply(instance, [socket, ...args]);
  } catch (err) {
    return fail('handler', err);
  }
  return { ok: true, value: null };
}

function tooLarge(what: string, limit: number): Failure {
  const error = Object.assign(new RangeError(`its state is ${what}, over the ${limit}-byte checkpoint limit`), { code: 'CHECKPOINT_TOO_LARGE' });
  return fail('checkpoint', error);
}

/**
 * The state a checkpoint holds: snapshot()'s value, or the instance's own enumerable properties.
 * Measured before v8.serialize copies it (see checkpoint-size.ts), and the bytes once more after.
 */
async function checkpoint(): Promise<InstanceOutcome<Uint8Array>> {
  const limit = start.checkpointBytes;
  try {
    const state = typeof instance.snapshot === 'function' ? await (instance.snapshot as () => unknown)() : { ...instance };
    const estimate = stateSizeAtLeast(state, limit);
    if (estimate > limit) return tooLarge(`at least ${estimate} bytes (measured before serializing)`, limit);
    const bytes = serialize(state);
    if (bytes.byteLength > limit) return tooLarge(`${bytes.byteLength} bytes serialized`, limit);
    return { ok: true, value: bytes };
  } catch (err) {
    return fail('checkpoint', err);
  }
}

/** The buffer under `bytes`, to be moved to the gateway rather than copied, if it is its own. */
function movable(bytes: Uint8Array): ArrayBuffer[] {
  const { buffer } = bytes;
  return buffer instanceof ArrayBuffer && bytes.byteOffset === 0 && bytes.byteLength === buffer.byteLength ? [buffer] : [];
}

async function drain(): Promise<void> {
  draining = true;
  let previous: InstanceCommand['op'] | undefined;
  for (let command = mailbox.shift(); command; command = mailbox.shift()) {
    // Frames of a busy socket are handled back to back, and their outcomes go together; anything
    // else first sends what the command before it produced.
    if (!(command.op === 'socket' && previous === 'socket')) flush();
    previous = command.op;
    if (command.op === 'call') {
      const { method, args, chain } = command;
      post({ op: 'result', seq: command.seq, outcome: await logged(command.attempt, () => call(method, args, chain)) });
    } else if (command.op === 'socket') {
      const { event } = command;
      post({ op: 'socket-done', seq: command.seq, outcome: await logged(1, () => socketEvent(event)) });
    } else if (command.op === 'checkpoint') {
      const outcome = await checkpoint();
      post({ op: 'checkpoint', seq: command.seq, outcome }, outcome.ok ? movable(outcome.value) : []);
    }
  }
  // The last answer goes now, not a loop turn later (a call's latency).
  flush();
  draining = false;
}

port.on('message', (message: InstanceCommand | InstanceCommand[]) =>
  withLogs(stray, () => {
    if (!Array.isArray(message)) return receive(message);
    for (const command of message) receive(command);
  }),
);

function receive(command: InstanceCommand): void {
  if (command.op === 'init') {
    start = command.start;
    watchOffHeapMemory(start.memoryMb, start.memoryCheckIntervalMs, `instance ${start.instanceId}`);
    void logged(1, init).then((outcome) => {
      post({ op: 'ready', outcome, acceptsSockets: outcome.ok && typeof instance.webSocketMessage === 'function' });
      return drain();
    });
    return;
  }
  // Replies to this instance's own outgoing calls bypass the mailbox: the method awaiting them
  // is what holds the mailbox.
  if (command.op === 'reply') return client.settle(command.seq, command.outcome);
  mailbox.push(command);
  if (!draining) void drain();
}
