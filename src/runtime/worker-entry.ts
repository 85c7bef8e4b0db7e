// Entry file of every stateless pool worker. It never lets an error escape to Piscina (which
// would lose its class): failures come back as Outcome values with a serialized error, and a
// rejection seen by the pool therefore always means the thread itself died or was stopped.
import { workerData } from 'piscina';
import { serializeError } from '../errors.js';
import { resultJson } from './result-json.js';
import { createContext } from './function-context.js';
import { ModuleCache, type LoadedModule } from './module-loader.js';
import type { CodeRef, Outcome, FailurePhase, PoolWorkerCommand, TaskEnvelope, TaskResults, WireRequest, WireResponse, WorkerSettings, WorkerTask } from './protocol.js';
import { WorkerSlots } from './running-slots.js';
import { GatewayClient } from './gateway-client.js';
import { MessageChannel } from 'node:worker_threads';
import { captureConsole, LogBuffer, withLogs } from './log-capture.js';
import { TaskControls } from './task-controls.js';
import { watchOffHeapMemory } from './memory-watchdog.js';

const settings = workerData as WorkerSettings;
const modules = new ModuleCache(settings.moduleCacheEntries, settings.moduleCacheBytes);
const slots = new WorkerSlots();
const controls = new TaskControls();
/** The log buffer of each running task, so code run on its behalf from outside logs there too. */
const logBuffers = new Map<number, LogBuffer>();
// ctx.instance() and ctx.invoke() calls go out on one end of this channel; the gateway answers on
// the same port, and sends cancellations of this worker's tasks on it too.
const gatewayPort = new MessageChannel();
const gateway = new GatewayClient((request) => gatewayPort.port1.postMessage(request));
gatewayPort.port1.on('message', (command: PoolWorkerCommand) => {
  if (command.op === 'reply') gateway.settle(command.seq, command.outcome);
  else {
    // Abort listeners run inside this call: give them the task's log scope, not the port's.
    const buffer = logBuffers.get(command.taskSeq);
    if (buffer) withLogs(buffer, () => controls.cancel(command.taskSeq));
    else controls.cancel(command.taskSeq);
  }
});
gatewayPort.port1.unref();
slots.announce(gatewayPort.port2);
captureConsole();
watchOffHeapMemory(settings.memoryMb, settings.memoryCheckIntervalMs, 'this pool worker');

type JsonHandler = (input: unknown, ctx: unknown) => unknown;
type FetchHandler = { fetch(request: Request, ctx: unknown): unknown };

type Failure = Extract<Outcome<never>, { ok: false }>;

/** A failed outcome; with `loaded`, the stack is mapped back to the uploaded sources. */
function fail(phase: FailurePhase, err: unknown, loaded?: LoadedModule): Failure {
  const error = serializeError(err);
  if (loaded && error.stack) error.stack = loaded.stacks.map(error.stack);
  return { ok: false, phase, error };
}

function load(code: CodeRef): Outcome<ReturnType<ModuleCache['get']>> {
  try {
    return { ok: true, value: modules.get(code) };
  } catch (err) {
    return fail('load', err);
  }
}

/** JSON text of a handler's value, or a `result` failure when it cannot be sent back. */
function toJson(value: unknown): Outcome<string> {
  const encoded = resultJson(value, settings.resultBytes);
  return encoded.ok ? { ok: true, value: encoded.json } : fail('result', encoded.error);
}

async function runJson(loaded: LoadedModule, input: unknown, ctx: unknown): Promise<Outcome<string>> {
  let value: unknown;
  try {
    value = await (loaded.exports.default as JsonHandler)(input, ctx);
  } catch (err) {
    return fail('handler', err, loaded);
  }
  return toJson(value);
}

function toRequest(wire: WireRequest): Request {
  const hasBody = wire.body !== null && wire.method !== 'GET' && wire.method !== 'HEAD';
  return new Request(wire.url, { method: wire.method, headers: wire.headers, ...(hasBody ? { body: wire.body } : {}) });
}

async function toWire(response: Response): Promise<WireResponse> {
  const headers: [string, string][] = [];
  response.headers.forEach((value, name) => {
    if (name !== 'set-cookie') headers.push([name, value]);
  });
  for (const cookie of response.headers.getSetCookie()) headers.push(['set-cookie', cookie]);
  const body = new Uint8Array(await response.arrayBuffer());
  return { status: response.status, statusText: response.statusText, headers, body };
}

async function runFetch(loaded: LoadedModule, wire: WireRequest, ctx: unknown): Promise<Outcome<WireResponse>> {
  let response: unknown;
  try {
    response = await (loaded.exports.default as FetchHandler).fetch(toRequest(wire), ctx);
  } catch (err) {
    return fail('handler', err, loaded);
  }
  if (!(response instanceof Response)) {
    return fail('result', new TypeError(`fetch() must return a Response, got ${response === null ? 'null' : typeof response}`));
  }
  try {
    return { ok: true, value: await toWire(response) };
  } catch (err) {
    return fail('result', err);
  }
}

/** Runs one task while its sequence number sits in this worker's running slots. */
export default async function runEnvelope(envelope: TaskEnvelope): Promise<TaskResults[keyof TaskResults] | null> {
  // Its caller has already been told it timed out or was cancelled; running it would only waste the thread.
  if (Date.now() >= envelope.deadlineAt || !controls.start(envelope.seq)) return null;
  const slot = slots.claim(envelope.seq);
  try {
    return await runTask(envelope.seq, envelope.task);
  } finally {
    slots.release(slot);
    controls.end(envelope.seq);
  }
}

async function runTask(seq: number, task: WorkerTask): Promise<TaskResults[keyof TaskResults]> {
  if (task.kind === 'stats') {
    return { cachedModules: modules.size, cachedBytes: modules.calculatedSize, heapUsedBytes: process.memoryUsage().heapUsed };
  }
  const loaded = load(task.code);
  if (task.kind === 'load' || !loaded.ok) return loaded.ok ? { ok: true, value: loaded.value.report } : { ...loaded, logs: [] };
  const module = loaded.value;
  const ctx = createContext(task.meta, gateway, () => controls.signal(seq, task.meta.timeoutMs));
  const logs = new LogBuffer(task.meta.attempt, settings.logBytes);
  logBuffers.set(seq, logs);
  try {
    const outcome = await withLogs<Promise<Outcome<string | WireResponse>>>(logs, () =>
      task.kind === 'invoke' ? runJson(module, task.input, ctx) : runFetch(module, task.request, ctx),
    );
    return { ...outcome, logs: logs.drain() } as TaskResults['invoke' | 'fetch'];
  } finally {
    logBuffers.delete(seq);
  }
}
