// `wisp dev FILE|DIR`: a function while it is being written. Uses the Wisp at WISP_URL, or
// starts one (embedded store in a temp dir, or --data) when none answers there; deploys the
// function, redeploys it on every save, and prints each call's console lines and errors as
// calls end. A save that does not deploy (a syntax error) prints why; the last good version
// keeps serving. Ctrl-C stops the Wisp it started.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, statSync, watch, type FSWatcher } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import { CliError, EXIT } from './cli-error.js';
import { eachEvent } from './event-stream.js';
import { UsageError, type Output } from './output.js';
import { defaultName, deployBody } from './upload-body.js';
import { WispClient } from './wisp-client.js';

const GATEWAY = fileURLToPath(new URL('../main.js', import.meta.url));
/** Saves often come as several writes (an editor's temp file, then a rename): one deploy for them. */
const SETTLE_MS = 100;
/** How long a Wisp started here may take to listen. */
const START_TIMEOUT_MS = 30_000;

interface DevOptions {
  name?: string;
  port?: string;
  data?: string;
}

interface LogEvent {
  invocationId: string;
  version: number;
  attempt: number;
  level?: string;
  time?: string;
  message: string;
  code?: string;
  stack?: string;
}

export function devCommand(program: Command, io: () => Output): void {
  program
    .command('dev')
    .description('serve a function while you write it: deploy it, redeploy on every save, print each call\'s logs and errors (starts a local Wisp if none runs at WISP_URL)')
    .argument('<path>', 'the module file or directory')
    .option('--name <name>', 'the function\'s name (default: the file\'s name without its extension)')
    .option('--port <port>', 'the port of the Wisp started here (default: WISP_URL\'s, 8080; 0 picks a free one)')
    .option('--data <dir>', 'the data dir of the Wisp started here (default: a new temp dir)')
    .action(async (path: string, options: DevOptions) => {
      try {
        statSync(path);
      } catch {
        throw new UsageError('FILE_NOT_FOUND', `${path}: no such file or directory`);
      }
      const { client, child } = await wispFor(io(), options);
      // Ctrl-C: the Wisp started here stops first (it finishes what runs, within its grace).
      const stop = () => {
        if (!child || child.exitCode !== null || child.signalCode !== null) process.exit(EXIT.ok);
        child.removeAllListeners('exit');
        child.once('exit', () => process.exit(EXIT.ok));
        child.kill('SIGTERM');
      };
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
      // Named without reading it: a directory is archived once per deploy, not once more here.
      const name = options.name ?? defaultName(path, statSync(path).isDirectory());
      let version = 0;
      let timer: NodeJS.Timeout | undefined;
      let deploying = Promise.resolve();
      const redeploy = () => {
        deploying = deploying.then(async () => {
          try {
            const first = version === 0;
            version = await deploy(client, path, name);
            io().out(first ? `serving ${name} version ${version} at ${client.url}/v1/functions/${name}/invoke` : `redeployed ${name} version ${version}`);
          } catch (err) {
            if (!(err instanceof CliError) || err.code === 'UNREACHABLE') throw err;
            io().err(`error ${err.code}: ${err.message}`);
            io().err(version === 0 ? 'nothing deployed yet: fix it and save again' : `still serving ${name} version ${version}`);
          }
        });
        return deploying;
      };
      // Watched before the first deploy, so that a save during it is not missed.
      // A file is watched through its directory: editors (and sed -i) save by writing a new file
      // and renaming it over the old, and a watch on the old file would see nothing after that.
      const isDir = statSync(path).isDirectory();
      const watcher: FSWatcher = watch(isDir ? path : dirname(resolve(path)), { recursive: isDir }, (_event, file) => {
        if (!isDir && file !== basename(path)) return;
        if (isDir && file && /(^|[/\\])(node_modules|\.git)([/\\]|$)/.test(String(file))) return;
        clearTimeout(timer);
        timer = setTimeout(
          () =>
            void redeploy().catch((err: unknown) => {
              // Wisp is gone: nothing more can be served from here.
              const failure = err instanceof CliError ? err : new CliError('INTERNAL_ERROR', String(err));
              io().err(`error ${failure.code}: ${failure.message}`);
              process.exit(failure.exitCode);
            }),
          SETTLE_MS,
        );
      });
      await redeploy();
      void followLogs(client, name, io());
      child?.once('exit', (code) => {
        watcher.close();
        io().err(`error NODE_EXITED: the Wisp started here exited (${code ?? 'killed'})`);
        process.exit(EXIT.failed);
      });
      // Runs until Ctrl-C.
      await new Promise(() => undefined);
    });
}

async function deploy(client: WispClient, path: string, name: string): Promise<number> {
  const body = await deployBody(path, undefined);
  const { body: version } = await client.request<{ version: number }>('PUT', `/v1/functions/${encodeURIComponent(name)}`, { raw: { bytes: body.bytes, contentType: body.contentType } });
  return version.version;
}

/** The Wisp at WISP_URL if one answers; else one started here, with its own data dir. */
async function wispFor(io: Output, options: DevOptions): Promise<{ client: WispClient; child: ChildProcess | undefined }> {
  const client = new WispClient();
  if (await answers(client)) {
    io.out(`using the Wisp at ${client.url}`);
    return { client, child: undefined };
  }
  const port = options.port ?? (new URL(client.url).port || '8080');
  const dataDir = options.data ?? mkdtempSync(join(tmpdir(), 'wisp-dev-'));
  const child = spawn(process.execPath, [GATEWAY], { env: { ...process.env, WISP_PORT: port, WISP_DATA_DIR: dataDir }, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stderr!.on('data', (chunk) => (output = (output + String(chunk)).slice(-4000)));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new CliError('WISP_START_TIMEOUT', `the Wisp started here did not listen within ${START_TIMEOUT_MS / 1000} s: ${output.trim()}`)), START_TIMEOUT_MS);
    createInterface({ input: child.stdout! }).on('line', (line) => {
      const match = /Wisp listening on (http:\/\/\S+)/.exec(line);
      if (match) {
        clearTimeout(timer);
        resolve(match[1]!);
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new CliError('NODE_EXITED', `the Wisp started here exited with ${code} before it listened: ${output.trim().split('\n').slice(-3).join(' | ')}`));
    });
  });
  io.out(`started a Wisp at ${url} (data in ${dataDir})`);
  return { client: new WispClient(url), child };
}

async function answers(client: WispClient): Promise<boolean> {
  try {
    const response = await client.send('GET', '/healthz', { signal: AbortSignal.timeout(2000) });
    await response.body?.cancel();
    return true;
  } catch {
    return false;
  }
}

/** Prints each call's lines and errors as calls end; follows again if the stream ends. */
async function followLogs(client: WispClient, name: string, io: Output): Promise<void> {
  for (;;) {
    try {
      await eachEvent(client, `/v1/functions/${encodeURIComponent(name)}/logs?follow=true`, ({ event, data }) => print(io, event, JSON.parse(data) as LogEvent));
    } catch (err) {
      if (err instanceof CliError && err.code === 'UNREACHABLE') return io.err(`error ${err.code}: ${err.message}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

function print(io: Output, kind: string, event: LogEvent): void {
  const who = `${event.invocationId.slice(0, 8)} v${event.version}${event.attempt > 1 ? ` attempt ${event.attempt}` : ''}`;
  if (kind === 'log') io.out(`${event.time?.slice(11, 23)} ${(event.level ?? 'log').padEnd(5)} ${who}  ${event.message}`);
  else if (kind === 'error') {
    io.out(`${new Date().toISOString().slice(11, 23)} ERROR ${who}  ${event.code}: ${event.message}`);
    // The function's own frames, source-mapped to its file: the first line repeats the message.
    if (event.stack) io.out(event.stack.split('\n').slice(1).join('\n'));
  }
  else if (kind === 'dropped') io.err(`the log stream let this terminal go (${(event as unknown as { reason?: string }).reason ?? 'too slow'}); following again`);
}
