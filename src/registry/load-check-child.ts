// The load check's child process, as the gateway runs it: starts load-check-entry.ts detached with
// a heap cap and no environment, reads its answers (see load-check-protocol.ts) under a byte cap,
// keeps a tail of its stderr, and kills it (its whole process group) at the deadline, once it has
// answered, or when the inspector closes. Whatever happened is gathered into a LoadCheckEnding;
// what that means for the deploy is module-inspector.ts's to say.
import { spawn, type ChildProcess } from 'node:child_process';
import { dirname } from 'node:path';
import type { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { ANSWER_FD, MAX_ANSWER_BYTES, type LoadCheckAnswer, type LoadCheckRequest } from './load-check-protocol.js';
import { parseLoadCheckAnswer } from './parse-load-check-answer.js';

const ENTRY = fileURLToPath(new URL('./load-check-entry.js', import.meta.url));

/** What the gateway keeps of the child's stderr: enough for Node's fatal-error lines. */
const STDERR_TAIL_BYTES = 8 * 1024;
/** Past this much stderr the gateway stops reading it (the child's next write fails). */
const STDERR_MAX_BYTES = 1024 * 1024;
/** How long a child may take to start before the load's own deadline begins. */
export const START_TIMEOUT_MS = 10_000;
/** After the child exits without a complete answer, how long its pipes may take to drain. */
const DRAIN_MS = 500;

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

/** How a child ended, as the gateway saw it. */
export interface LoadCheckEnding {
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

/**
 * Starts one child, feeds it the code, and gathers how it ended. Never rejects. `register` is
 * handed the child's stop, for the inspector's close, and returns how to forget it again.
 */
export function runLoadCheckChild(
  request: LoadCheckRequest,
  timeoutMs: number,
  register: (stop: () => void) => () => void,
): Promise<LoadCheckEnding> {
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
    let stoppedFor: LoadCheckEnding['stoppedFor'];
    let exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
    let settled = false;
    let drain: NodeJS.Timeout | undefined;
    let spawnError: string | undefined;

    const stop = (why: NonNullable<LoadCheckEnding['stoppedFor']>) => {
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
        const parsed = parseLoadCheckAnswer(line);
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
