// Deploy-time load check: runs the new bundle's top level in a disposable child process
// (load-check-entry.ts) under a heap cap, a memory bound and a deadline, and turns every way that
// can fail into 400 INVALID_FUNCTION with what and where. A process, not a worker thread: V8's
// fatal out-of-memory abort inside a worker thread takes the whole process with it, and a module
// whose top level does that would take the gateway down at deploy time. Deploys are rare, so a
// process start per deploy is affordable; at most a few run at once, the others wait.
import { spawn, type ChildProcess } from 'node:child_process';
import { dirname } from 'node:path';
import type { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { WispError, type SerializedError } from '../errors.js';
import type { CodeRef, LoadReport } from '../runtime/protocol.js';
import { ANSWER_FD, MAX_ANSWER_BYTES, type LoadCheckAnswer, type LoadCheckRequest } from './load-check-protocol.js';
import type { ModuleInspector } from './registry.js';

/** The first stack frame in user code, e.g. "hello.ts:3:9" (source-mapped by the worker). */
const FRAME = /\(?((?:[^\s()]*\/)?([^\s/()]+\.(?:[cm]?[jt]s)):(\d+):(\d+))\)?$/;

function locate(error: SerializedError): { file: string; line: number; column: number } | undefined {
  for (const line of (error.stack ?? '').split('\n').slice(1)) {
    if (line.includes('node:') || line.includes('/node_modules/')) continue;
    const match = FRAME.exec(line.trim());
    if (match) return { file: match[2]!, line: Number(match[3]), column: Number(match[4]) };
  }
  return undefined;
}

export function loadFailure(error: SerializedError): WispError {
  const where = locate(error);
  const at = where ? ` at ${where.file}:${where.line}:${where.column}` : '';
  return new WispError('INVALID_FUNCTION', `the module threw while loading${at}: ${error.name}: ${error.message}`, where ?? {});
}

const ENTRY = fileURLToPath(new URL('./load-check-entry.js', import.meta.url));

/** What the gateway keeps of the child's stderr: enough for Node's fatal-error lines. */
const STDERR_TAIL_BYTES = 8 * 1024;
/** Past this much stderr the gateway stops reading it (the child's next write fails). */
const STDERR_MAX_BYTES = 1024 * 1024;
/** How long a child may take to start before the load's own deadline begins. */
const START_TIMEOUT_MS = 10_000;
/** After the child exits without a complete answer, how long its pipes may take to drain. */
const DRAIN_MS = 500;
/** The resident memory of a child beyond its heap and Buffer memory: Node itself, code, stacks. */
const RUNTIME_OVERHEAD_MB = 128;
/** Node's and V8's last words when the heap is full. */
const OUT_OF_MEMORY = /FATAL ERROR: .*Allocation failed|JavaScript heap out of memory|Fatal process out of memory|FatalProcessOutOfMemory/i;

export interface ModuleInspectorOptions {
  /** The child's heap cap, and the bound of the Buffer memory the module may hold once loaded. */
  memoryMb: number;
  timeoutMs: number;
  /** How many load checks run at once; the others wait their turn. */
  maxConcurrent?: number;
}

/** The inspector, and how the gateway stops it: running checks are killed, waiting ones refused. */
export type ClosableModuleInspector = ModuleInspector & { close(): void };

// Every child of this process, killed if the gateway exits without closing (their own watchdog
// also kills them once the gateway is gone, even while their main thread is busy).
const liveChildren = new Set<ChildProcess>();
let exitHookInstalled = false;

function killChild(child: ChildProcess): void {
  // Detached, the child leads a process group: whatever it started goes with it.
  if (child.pid !== undefined && process.platform !== 'win32') {
    try {
      process.kill(-child.pid, 'SIGKILL');
      return;
    } catch {
      // The group is gone already (or never was); kill the child itself below.
    }
  }
  if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
}

function track(child: ChildProcess): void {
  liveChildren.add(child);
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const live of liveChildren) killChild(live);
  });
}

/** Nothing of the gateway's environment (it may hold tokens and secrets) but where programs are. */
function childEnvironment(): NodeJS.ProcessEnv {
  return process.env.PATH === undefined ? {} : { PATH: process.env.PATH };
}

/** A bounded number of load checks at once, in arrival order. */
class Turns {
  #free: number;
  readonly #waiting: { resolve: () => void; reject: (err: Error) => void }[] = [];

  constructor(size: number) {
    this.#free = size;
  }

  acquire(): Promise<void> {
    if (this.#free > 0) {
      this.#free--;
      return Promise.resolve();
    }
    return new Promise((resolve, reject) => this.#waiting.push({ resolve, reject }));
  }

  release(): void {
    const next = this.#waiting.shift();
    if (next) next.resolve();
    else this.#free++;
  }

  refuseWaiting(err: Error): void {
    for (const waiter of this.#waiting.splice(0)) waiter.reject(err);
  }
}

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

/** Reads one answer line; the child runs user code, so its answers are checked, not trusted. */
function parseAnswer(line: string): LoadCheckAnswer | undefined {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return undefined;
  }
  if (!isObject(value)) return undefined;
  switch (value.kind) {
    case 'ready':
      return { kind: 'ready' };
    case 'loaded': {
      const report = value.report;
      if (!isObject(report) || !isObject(report.exports)) return undefined;
      const { handler, fetch, classes } = report.exports;
      if (typeof handler !== 'boolean' || typeof fetch !== 'boolean') return undefined;
      if (!Array.isArray(classes) || !classes.every((name) => typeof name === 'string')) return undefined;
      return { kind: 'loaded', report: { exports: { handler, fetch, classes: classes as string[] }, config: report.config ?? null } };
    }
    case 'threw': {
      const error = value.error;
      if (!isObject(error) || typeof error.name !== 'string' || typeof error.message !== 'string') return undefined;
      return {
        kind: 'threw',
        error: { name: error.name, message: error.message, ...(typeof error.stack === 'string' ? { stack: error.stack } : {}) },
      };
    }
    case 'memory': {
      const { measure, usedMb, limitMb } = value;
      if ((measure !== 'rss' && measure !== 'external') || typeof usedMb !== 'number' || typeof limitMb !== 'number') return undefined;
      return { kind: 'memory', measure, usedMb, limitMb };
    }
    case 'unreadable':
      return typeof value.message === 'string' ? { kind: 'unreadable', message: value.message } : undefined;
    default:
      return undefined;
  }
}

/** How a child ended, as the inspector saw it. */
interface Ending {
  answer: LoadCheckAnswer | undefined;
  code: number | null;
  signal: NodeJS.Signals | null;
  stderr: string;
  /** Why the gateway ended it, if it did. */
  stoppedFor?: 'timeout' | 'start-timeout' | 'answer-too-large' | 'closed';
  stderrFlooded: boolean;
  /** Set when no process could be started at all. */
  spawnError?: string;
}

function crashDetail(ending: Ending, memoryMb: number): string {
  const how = ending.signal ? `the process was killed by ${ending.signal}` : `the process exited with code ${ending.code}`;
  if (OUT_OF_MEMORY.test(ending.stderr)) {
    return `the module crashed while loading: out of memory (the load check caps the heap at ${memoryMb} MB; ${how})`;
  }
  const lastLine = ending.stderr.trim().split('\n').at(-1)?.trim();
  const said = ending.stderrFlooded
    ? '; it wrote more than 1 MB to stderr'
    : lastLine
      ? `; its last stderr line: ${JSON.stringify(lastLine.length > 300 ? `${lastLine.slice(0, 300)}…` : lastLine)}`
      : '';
  const hint = ending.signal === null ? ' (process.exit() at top level?)' : '';
  return `the module crashed while loading: ${how} before the load finished${hint}${said}`;
}

function toOutcome(ending: Ending, memoryMb: number, timeoutMs: number): LoadReport {
  const { answer } = ending;
  if (answer && answer.kind !== 'ready') {
    switch (answer.kind) {
      case 'loaded':
        return answer.report;
      case 'threw':
        throw loadFailure(answer.error);
      case 'memory':
        throw new WispError(
          'INVALID_FUNCTION',
          answer.measure === 'rss'
            ? `the module ran out of memory while loading: the process held ${answer.usedMb} MB, past the load check's ${answer.limitMb} MB bound`
            : `the module ran out of memory while loading: it holds ${answer.usedMb} MB of Buffer memory (outside the heap) once loaded, past its ${answer.limitMb} MB memory limit`,
        );
      case 'unreadable':
        throw new WispError('INVALID_FUNCTION', `the module loaded but its report cannot be read: ${answer.message}`);
    }
  }
  switch (ending.stoppedFor) {
    case 'closed':
      throw new WispError('SHUTTING_DOWN', 'Wisp is shutting down; deploy again after it restarts');
    case 'timeout':
      throw new WispError('INVALID_FUNCTION', `the module did not finish loading within ${timeoutMs} ms (an endless loop at top level?)`);
    case 'start-timeout':
      throw new WispError('SERVER_BUSY', `cannot check the module now: the load check did not start within ${START_TIMEOUT_MS} ms`, { retryAfterSeconds: 1 });
    case 'answer-too-large':
      throw new WispError('INVALID_FUNCTION', `the module wrote more than ${MAX_ANSWER_BYTES} bytes to the load check's answer channel while loading`);
  }
  if (ending.spawnError !== undefined) {
    throw new WispError('SERVER_BUSY', `cannot check the module now: ${ending.spawnError}`, { retryAfterSeconds: 1 });
  }
  if (answer === undefined) {
    // It died before it said "ready": before the module's first line ran, so not the module's doing.
    const how = ending.signal ? `killed by ${ending.signal}` : `exit code ${ending.code}`;
    const said = ending.stderr.trim().split('\n').at(-1)?.trim().slice(0, 300);
    throw new WispError('SERVER_BUSY', `cannot check the module now: the load check process failed to start (${how})${said ? `: ${said}` : ''}`, {
      retryAfterSeconds: 1,
    });
  }
  throw new WispError('INVALID_FUNCTION', crashDetail(ending, memoryMb));
}

/** Starts one child, feeds it the code, and gathers how it ended. Never rejects. */
function runChild(request: LoadCheckRequest, timeoutMs: number, register: (stop: () => void) => () => void): Promise<Ending> {
  return new Promise((resolve) => {
    let child: ChildProcess;
    try {
      child = spawn(process.execPath, [`--max-old-space-size=${request.memoryMb}`, ENTRY, JSON.stringify(request)], {
        cwd: dirname(request.code.codePath),
        env: childEnvironment(),
        stdio: ['ignore', 'ignore', 'pipe', 'pipe'],
        detached: process.platform !== 'win32',
        windowsHide: true,
      });
    } catch (err) {
      resolve({ answer: undefined, code: null, signal: null, stderr: '', stderrFlooded: false, spawnError: String(err) });
      return;
    }
    track(child);
    const answers = child.stdio[ANSWER_FD] as Readable | null;
    const stderr = child.stderr;
    if (!answers || !stderr) {
      killChild(child);
      liveChildren.delete(child);
      resolve({ answer: undefined, code: null, signal: null, stderr: '', stderrFlooded: false, spawnError: 'the load check has no pipes' });
      return;
    }
    let answerBytes = 0;
    let pending = '';
    let answer: LoadCheckAnswer | undefined;
    let stderrTail = Buffer.alloc(0);
    let stderrBytes = 0;
    let stderrFlooded = false;
    let stoppedFor: Ending['stoppedFor'];
    let exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
    let settled = false;
    let drain: NodeJS.Timeout | undefined;
    let spawnError: string | undefined;

    const stop = (why: NonNullable<Ending['stoppedFor']>) => {
      stoppedFor ??= why;
      killChild(child);
    };
    let deadline = setTimeout(() => stop('start-timeout'), START_TIMEOUT_MS);
    const unregister = register(() => stop('closed'));

    const finish = () => {
      if (settled || !exit) return;
      settled = true;
      clearTimeout(deadline);
      clearTimeout(drain);
      unregister();
      liveChildren.delete(child);
      answers.destroy();
      stderr.destroy();
      resolve({ answer, ...exit, stderr: stderrTail.toString('utf8'), stoppedFor, stderrFlooded, ...(spawnError === undefined ? {} : { spawnError }) });
    };
    const complete = () => answer !== undefined && answer.kind !== 'ready';

    answers.on('data', (chunk: Buffer) => {
      if (complete()) return;
      answerBytes += chunk.length;
      if (answerBytes > MAX_ANSWER_BYTES) {
        answers.destroy();
        stop('answer-too-large');
        return;
      }
      pending += chunk.toString('utf8');
      let newline: number;
      while (!complete() && (newline = pending.indexOf('\n')) >= 0) {
        const line = pending.slice(0, newline);
        pending = pending.slice(newline + 1);
        const parsed = parseAnswer(line);
        if (parsed?.kind === 'ready' && answer === undefined) {
          // The process is up: from here the module has timeoutMs to load.
          clearTimeout(deadline);
          deadline = setTimeout(() => stop('timeout'), timeoutMs);
        }
        if (parsed) answer = parsed;
      }
      // Nothing more is needed from it; whatever its exit handlers would do is not waited for.
      if (complete()) killChild(child);
    });
    stderr.on('data', (chunk: Buffer) => {
      stderrBytes += chunk.length;
      stderrTail = Buffer.concat([stderrTail, chunk]);
      if (stderrTail.length > STDERR_TAIL_BYTES) stderrTail = stderrTail.subarray(stderrTail.length - STDERR_TAIL_BYTES);
      if (stderrBytes > STDERR_MAX_BYTES) {
        stderrFlooded = true;
        stderr.destroy();
      }
    });
    answers.on('error', () => {});
    stderr.on('error', () => {});
    child.on('error', (err) => {
      // Only a failed spawn ends it here (a failed kill is an error too): 'exit' never comes then.
      if (child.pid !== undefined) return;
      spawnError = err.message;
      exit ??= { code: null, signal: null };
      finish();
    });
    child.on('exit', (code, signal) => {
      exit = { code, signal };
      // Whatever the module started at top level goes too.
      killChild(child);
      if (complete()) finish();
      else drain = setTimeout(finish, DRAIN_MS);
    });
    child.on('close', finish);
  });
}

export function createModuleInspector(options: ModuleInspectorOptions): ClosableModuleInspector {
  const { memoryMb, timeoutMs } = options;
  const turns = new Turns(options.maxConcurrent ?? 2);
  const running = new Set<() => void>();
  let closed = false;
  const shuttingDown = () => new WispError('SHUTTING_DOWN', 'Wisp is shutting down; deploy again after it restarts');

  const inspect = async (code: CodeRef): Promise<LoadReport> => {
    if (closed) throw shuttingDown();
    await turns.acquire();
    try {
      if (closed) throw shuttingDown();
      const request: LoadCheckRequest = {
        code,
        parentPid: process.pid,
        memoryMb,
        rssLimitMb: 2 * memoryMb + RUNTIME_OVERHEAD_MB,
        selfDeadlineMs: START_TIMEOUT_MS + timeoutMs + 1000,
      };
      const ending = await runChild(request, timeoutMs, (stop) => {
        running.add(stop);
        return () => running.delete(stop);
      });
      return toOutcome(ending, memoryMb, timeoutMs);
    } finally {
      turns.release();
    }
  };
  const close = () => {
    closed = true;
    turns.refuseWaiting(shuttingDown());
    for (const stop of running) stop();
  };
  return Object.assign(inspect, { close });
}
