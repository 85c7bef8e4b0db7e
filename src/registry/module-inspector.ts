// Deploy-time load check: runs the new bundle's top level in a disposable child process
// (load-check-entry.ts, run by load-check-child.ts) under a heap cap, a memory bound and a
// deadline, and turns every way that can fail into 400 INVALID_FUNCTION with what and where. A
// process, not a worker thread: V8's fatal out-of-memory abort inside a worker thread takes the
// whole process with it, and a module whose top level does that would take the gateway down at
// deploy time. Deploys are rare, so a process start per deploy is affordable; at most a few run
// at once, the others wait.
import { WispError, type SerializedError } from '../errors.js';
import type { CodeRef, LoadReport } from '../runtime/protocol.js';
import { runLoadCheckChild, START_TIMEOUT_MS, type LoadCheckEnding } from './load-check-child.js';
import { MAX_ANSWER_BYTES, type LoadCheckRequest } from './load-check-protocol.js';
import type { ModuleInspector } from './registry.js';
import { Turns } from './turns.js';

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

function crashDetail(ending: LoadCheckEnding, memoryMb: number): string {
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

function toOutcome(ending: LoadCheckEnding, memoryMb: number, timeoutMs: number): LoadReport {
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
      const ending = await runLoadCheckChild(request, timeoutMs, (stop) => {
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
