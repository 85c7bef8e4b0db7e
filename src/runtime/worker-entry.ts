// Entry file of every stateless pool worker. It never lets an error escape to Piscina (which
// would lose its class): failures come back as Outcome values with a serialized error, and a
// rejection seen by the pool therefore always means the thread itself died or was stopped.
// Faults that surface outside a call's own await chain are blamed on the call that caused them
// and retire the thread (worker-faults.ts); a retiring thread turns new tasks away.
import { MessageChannel } from 'node:worker_threads';
import { workerData } from 'piscina';
import { createContext } from './function-context.js';
import { runFetch } from './fetch-task.js';
import { GatewayClient } from './gateway-client.js';
import { IntrinsicsFingerprint } from './intrinsics-fingerprint.js';
import { captureConsole, currentOwner, LogBuffer, withLogs, type TaskOwner } from './log-capture.js';
import { ModuleCache, type LoadedModule } from './module-loader.js';
import { guardBufferAllocation, OffHeapLimit } from './off-heap-memory.js';
import type { Culprit, Outcome, PoolWorkerCommand, RetiredAnswer, TaskEnvelope, TaskResults, WorkerSettings, WorkerTask } from './protocol.js';
import { WorkerSlots } from './running-slots.js';
import { TaskControls } from './task-controls.js';
import { fail, toJson, type Failure } from './task-outcome.js';
import { WorkerFaults } from './worker-faults.js';

const settings = workerData as WorkerSettings;
const modules = new ModuleCache(settings.moduleCacheEntries, settings.moduleCacheBytes);
const slots = new WorkerSlots();
const controls = new TaskControls();
/** The log buffer of each running task, so code run on its behalf from outside logs there too. */
const logBuffers = new Map<number, LogBuffer>();
// ctx.instance() and ctx.invoke() calls go out on one end of this channel; the gateway answers on
// the same port, and sends cancellations of this worker's tasks on it too.
const gatewayPort = new MessageChannel();
const gateway = new GatewayClient((request) => gatewayPort.port1.postMessage(request), () => settings.inputBytes);
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
const faults = new WorkerFaults(gatewayPort.port1);
captureConsole();
const offHeap = new OffHeapLimit(settings.memoryMb);
guardBufferAllocation(offHeap, (message) => {
  const owner = currentOwner();
  if (owner) faults.memory(owner, message);
  else faults.blame(null, message);
});
// While a call awaits, a timer also checks: memory held across awaits is found before the call
// ends. (An idle pool thread blocks in Piscina's Atomics.wait, so this never fires between calls.)
setInterval(() => {
  const overMb = offHeap.overBy();
  if (overMb > 0) faults.memoryWhileRunning(`${offHeap.describe(overMb, 'the call')}; the worker was recycled`);
}, settings.memoryCheckIntervalMs).unref();
// Taken last, so Wisp's own changes (console, Buffer.alloc) are part of what is expected.
const intrinsics = new IntrinsicsFingerprint();

type JsonHandler = (input: unknown, ctx: unknown) => unknown;

const RETIRED: RetiredAnswer = { retired: true };

/** The function that ran last here, and its code: what a change found later is blamed on. */
let last: { digest: string; culprit: Culprit } | undefined;

/**
 * Whether this thread is still fit to run `task`. Built-ins are compared only when the code
 * changes: a function sees its own changes, and the check (~5 µs) stays off the path of a
 * thread that keeps running one function.
 */
function fitFor(task: WorkerTask): boolean {
  if (faults.retiring) return false;
  // (Buffer memory is checked when a call ends, not here: an idle pool thread runs nothing.)
  if ('code' in task && last && last.digest !== task.code.digest) {
    const changed = intrinsics.changed();
    if (changed) faults.blame(last.culprit, `changed a built-in: ${changed}; the thread is retired so other functions do not see it`);
  }
  return !faults.retiring;
}

async function runJson(loaded: LoadedModule, input: unknown, ctx: unknown): Promise<Outcome<string>> {
  let value: unknown;
  try {
    value = await (loaded.exports.default as JsonHandler)(input, ctx);
  } catch (err) {
    return fail('handler', err, loaded);
  }
  return toJson(value, settings.resultBytes);
}

/** Runs one task while its sequence number sits in this worker's running slots. */
export default async function runEnvelope(envelope: TaskEnvelope): Promise<TaskResults[keyof TaskResults] | RetiredAnswer | null> {
  // Its caller has already been told it timed out or was cancelled; running it would only waste the thread.
  if (Date.now() >= envelope.deadlineAt) return null;
  if (!fitFor(envelope.task)) return RETIRED;
  if (!controls.start(envelope.seq)) return null;
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
  const { meta } = task;
  const owner: TaskOwner = { seq, function: meta.function, version: meta.version, invocationId: meta.invocationId };
  last = { digest: task.code.digest, culprit: owner };
  const logs = new LogBuffer(meta.attempt, settings.logBytes, owner);
  logBuffers.set(seq, logs);
  // A fault raised from this call's callbacks ends it (see worker-faults.ts).
  // It wins over what the handler returned: code that catches the RangeError of a refused
  // Buffer.alloc is still at fault.
  let faulted!: (failure: Failure) => void;
  let faultSeen: Failure | undefined;
  const fault = new Promise<Failure>((resolve) => (faulted = resolve));
  const leave = faults.enter(seq, (phase, error) => {
    faultSeen ??= { ok: false, phase, error };
    faulted(faultSeen);
  });
  try {
    // The module loads in the call's scope: timers its top level starts are its own.
    let outcome = await withLogs<Promise<Outcome<unknown>>>(logs, () => {
      let module: LoadedModule;
      try {
        module = modules.get(task.code);
      } catch (err) {
        return Promise.resolve(fail('load', err));
      }
      const ctx = createContext(meta, gateway, () => controls.signal(seq, meta.timeoutMs));
      const run = task.kind === 'invoke' ? runJson(module, task.input, ctx) : runFetch(module, task.request, ctx, settings.resultBytes);
      return Promise.race([run, fault]);
    });
    if (faultSeen) outcome = faultSeen;
    // Buffer memory still held when the call ends is the call's: typed arrays and ArrayBuffers
    // are not checked when they are made (see off-heap-memory.ts).
    const overMb = offHeap.overBy();
    if (overMb > 0) {
      const message = offHeap.describe(overMb, `function "${meta.function}"`);
      faults.memory(owner, message);
      outcome = { ok: false, phase: 'memory', error: { name: 'Error', message: `${message}; the worker was recycled` } };
    }
    return { ...outcome, logs: logs.drain() } as TaskResults['invoke' | 'fetch'];
  } finally {
    leave();
    logBuffers.delete(seq);
  }
}
