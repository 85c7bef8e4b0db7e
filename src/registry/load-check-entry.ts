// The deploy-time load check's child process: runs a new bundle's top level, answers what it
// exports (see load-check-protocol.ts), and exits. It is a process of its own so that whatever
// the top level does (a fatal out-of-memory abort, process.exit(), an endless loop) ends this
// process and never the gateway. load-check-child.ts starts it with a heap cap, no environment
// and a deadline.
import { writeSync } from 'node:fs';
import { getHeapStatistics } from 'node:v8';
import { Worker } from 'node:worker_threads';
import { serializeError, type SerializedError } from '../errors.js';
import { loadModule } from '../runtime/module-loader.js';
import { ANSWER_FD, MAX_REPORT_BYTES, type LoadCheckAnswer, type LoadCheckRequest } from './load-check-protocol.js';

// A thread of its own, because the main thread may never come back from the module's top level:
// it kills the process once the gateway is gone (its parent pid is no longer the gateway's) or past the
// backstop deadline, and when the process's resident memory (Buffers included) passes its bound.
// The module's first line runs only once it watches.
const WATCHDOG = `
const { workerData: w, parentPort } = require('node:worker_threads');
const { writeSync } = require('node:fs');
const die = () => {
  try { process.kill(-process.pid, 'SIGKILL'); } catch {}
  process.kill(process.pid, 'SIGKILL');
};
// Not unref'd: a worker whose loop holds nothing ends. The process does not wait for it (it is
// unref'd from the main thread, which ends the process itself).
setTimeout(die, w.selfDeadlineMs);
setInterval(() => {
  if (process.ppid !== w.parentPid) die();
  const rss = process.memoryUsage.rss();
  if (rss <= w.rssLimitMb * 1048576) return;
  const answer = { kind: 'memory', measure: 'rss', usedMb: Math.round(rss / 1048576), limitMb: w.rssLimitMb };
  try { writeSync(w.answerFd, JSON.stringify(answer) + '\\n'); } catch {}
  die();
}, 10);
parentPort.postMessage('watching');
`;

// Taken before the module runs, which could replace the globals.
const stringify = JSON.stringify;
const exit = process.exit.bind(process);
const externalBytes = () => getHeapStatistics().external_memory;

function send(answer: LoadCheckAnswer): void {
  writeSync(ANSWER_FD, `${stringify(answer)}\n`);
}

const clip = (text: string, max: number) => (text.length > max ? `${text.slice(0, max)}…` : text);

function describeThrown(err: unknown): SerializedError {
  try {
    const error = serializeError(err);
    return {
      ...error,
      name: clip(String(error.name), 200),
      message: clip(String(error.message), 2000),
      ...(error.stack ? { stack: clip(String(error.stack), 8000) } : {}),
    };
  } catch {
    return { name: 'Error', message: 'the module threw a value that cannot be described' };
  }
}

/** The answer line for a successful load, or why it cannot be sent. */
function loadedLine(answer: LoadCheckAnswer): string {
  let line: string;
  try {
    line = stringify(answer);
  } catch (err) {
    return stringify({ kind: 'unreadable', message: `its export const config is not JSON (${describeThrown(err).message})` });
  }
  if (line.length > MAX_REPORT_BYTES) {
    return stringify({ kind: 'unreadable', message: `its exports and config take ${line.length} bytes, more than the ${MAX_REPORT_BYTES} allowed` });
  }
  return line;
}

/** Resolves once the watchdog runs: the module's first line is already under its bounds. */
function startWatchdog(request: LoadCheckRequest): Promise<void> {
  const watchdog = new Worker(WATCHDOG, {
    eval: true,
    workerData: { ...request, answerFd: ANSWER_FD },
    resourceLimits: { maxOldGenerationSizeMb: 16, maxYoungGenerationSizeMb: 4 },
  });
  return new Promise((resolve, reject) => {
    watchdog.once('message', () => {
      // From here on the process ends when the main thread ends it; the watchdog does not hold it.
      watchdog.unref();
      resolve();
    });
    watchdog.once('error', reject);
    watchdog.once('exit', (code) => reject(new Error(`the watchdog thread exited with code ${code}`)));
  });
}

async function main(): Promise<void> {
  const request = JSON.parse(process.argv[2] ?? '') as LoadCheckRequest;
  try {
    await startWatchdog(request);
  } catch (err) {
    // Before "ready": the gateway takes this for a failure of its own, not of the module.
    writeSync(2, `the load check cannot start its watchdog: ${describeThrown(err).message}\n`);
    exit(70);
  }
  send({ kind: 'ready' });
  let line: string;
  try {
    const { report } = loadModule(request.code);
    const external = externalBytes();
    line =
      external > request.memoryMb * 2 ** 20
        ? stringify({ kind: 'memory', measure: 'external', usedMb: Math.round(external / 2 ** 20), limitMb: request.memoryMb })
        : loadedLine({ kind: 'loaded', report });
  } catch (err) {
    line = stringify({ kind: 'threw', error: describeThrown(err) });
  }
  writeSync(ANSWER_FD, `${line}\n`);
  exit(0);
}

await main();
