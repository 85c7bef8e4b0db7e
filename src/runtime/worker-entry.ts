// Entry file of every stateless pool worker. It never lets an error escape to Piscina (which
// would lose its class): failures come back as Outcome values with a serialized error, and a
// rejection seen by the pool therefore always means the thread itself died or was stopped.
import { workerData } from 'piscina';
import { serializeError } from '../errors.js';
import { resultJson } from './result-json.js';
import { createContext } from './function-context.js';
import { ModuleCache, type LoadedModule } from './module-loader.js';
import type { CodeRef, InstanceCallReply, Outcome, FailurePhase, TaskEnvelope, TaskResults, WireRequest, WireResponse, WorkerSettings, WorkerTask } from './protocol.js';
import { WorkerSlots } from './running-slots.js';
import { InstanceClient } from './instance-client.js';
import { MessageChannel } from 'node:worker_threads';

const settings = workerData as WorkerSettings;
const modules = new ModuleCache(settings.moduleCacheEntries, settings.moduleCacheBytes);
const slots = new WorkerSlots();
// ctx.instance() calls go out on one end of this channel; the gateway answers on the same port.
const instanceCalls = new MessageChannel();
const client = new InstanceClient((request) => instanceCalls.port1.postMessage(request));
instanceCalls.port1.on('message', (reply: InstanceCallReply) => client.settle(reply.seq, reply.outcome));
instanceCalls.port1.unref();
slots.announce(instanceCalls.port2);

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

async function runFetch(loaded: LoadedModule, wire: WireRequest, ctx: unknown): Promise<TaskResults['fetch']> {
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
  // Its caller has already been told it timed out; running it now would only waste the thread.
  if (Date.now() >= envelope.deadlineAt) return null;
  const slot = slots.claim(envelope.seq);
  try {
    return await runTask(envelope.task);
  } finally {
    slots.release(slot);
  }
}

async function runTask(task: WorkerTask): Promise<TaskResults[keyof TaskResults]> {
  if (task.kind === 'stats') {
    return { cachedModules: modules.size, cachedBytes: modules.calculatedSize, heapUsedBytes: process.memoryUsage().heapUsed };
  }
  const loaded = load(task.code);
  if (!loaded.ok) return loaded;
  if (task.kind === 'load') return { ok: true, value: loaded.value.report };
  const ctx = createContext(task.meta, client);
  if (task.kind === 'invoke') return runJson(loaded.value, task.input, ctx);
  return runFetch(loaded.value, task.request, ctx);
}
