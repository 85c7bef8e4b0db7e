// README.md runs top to bottom: every sh/bash block, in the order written, is run with bash
// against a real Wisp process started fresh with its default settings (as `npm start` does, but
// on a free port and a temp data dir). The rules, also written at the top of README.md:
// - a block runs from the repository root with `set -euo pipefail`; shell variables and functions
//   it defines are carried to the blocks after it, as in one terminal;
// - every curl fails on an HTTP error (`--fail-with-body`), unless the line before the fence is
//   `<!-- readme-test: errors-ok -->`;
// - the text of each `# → …` comment must be in the block's output, in order, `…` standing for
//   any text;
// - `<!-- readme-test: skip -->` before a fence: not run (only blocks that start Wisp, a cluster of it, or run the
//   tests); `<!-- readme-test: file PATH -->`: the block must be that file, as it is;
// - localhost:8080 is the test's Wisp, and https://example.com/hooks/wisp a receiver the test
//   runs, which must get the invocation's signed callback.
// No block may leave a file behind in the repository.
import t, { type Test } from 'tap';
import { spawn } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { once } from 'node:events';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startWispProcess } from './helpers/process.js';
import { tempDir } from './helpers/temp-dir.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const README = readFileSync(join(ROOT, 'README.md'), 'utf8');
const README_ADDRESS = /\b(?:localhost|127\.0\.0\.1):8080\b/g;
const CALLBACK_URL = 'https://example.com/hooks/wisp';
/**
 * A guard against a block that hangs, not a speed check: each `npx wisp` in a block costs npm's
 * own start-up (over a second here, several under CI's parallel load), and the CLI block has
 * seven of them; 20 s was not enough on a loaded machine.
 */
const BLOCK_TIMEOUT_MS = 90_000;
const SHELLS = new Set(['sh', 'bash']);

interface Block {
  /** The line of the opening fence, 1-based. */
  line: number;
  lang: string;
  code: string;
  /** The `readme-test:` comment on the line before the fence, if any. */
  marker: string | undefined;
}

function readmeBlocks(markdown: string): Block[] {
  const lines = markdown.split('\n');
  const blocks: Block[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = /^```([\w-]*)\s*$/.exec(lines[i]!);
    if (!open) continue;
    const start = i;
    while (++i < lines.length && lines[i]!.trimEnd() !== '```');
    if (i === lines.length) throw new Error(`README.md:${start + 1}: a code block is never closed`);
    const marker = /^<!--\s*readme-test:\s*(.*?)\s*-->$/.exec(lines[start - 1]?.trim() ?? '')?.[1];
    blocks.push({ line: start + 1, lang: open[1]!, code: `${lines.slice(start + 1, i).join('\n')}\n`, marker });
  }
  return blocks;
}

/** The texts a block's `# → …` comments promise, in order: each comment cut at every `…`. */
function promisedOutput(code: string): string[] {
  const pieces: string[] = [];
  for (const line of code.split('\n')) {
    const at = line.indexOf('# → ');
    if (at === -1) continue;
    pieces.push(...line.slice(at + '# → '.length).split('…').map((piece) => piece.trim()).filter(Boolean));
  }
  return pieces;
}

/** The first promised piece not found in `output` after the ones before it. */
function firstMissing(output: string, pieces: string[]): string | undefined {
  let from = 0;
  for (const piece of pieces) {
    const at = output.indexOf(piece, from);
    if (at === -1) return piece;
    from = at + piece.length;
  }
  return undefined;
}

const quoted = (text: string) => `'${text.replaceAll("'", `'\\''`)}'`;

/**
 * Bash for one block: the state of the blocks before it (variables and functions a block
 * defines, saved on exit), strict mode, and curl failing on HTTP errors unless `errorsOk`.
 */
function script(code: string, stateFile: string, errorsOk: boolean): string {
  return `__wisp_baseline=" $(compgen -v | tr '\\n' ' ') "
source ${quoted(stateFile)}
__wisp_save() {
  {
    for __wisp_v in $(compgen -v); do
      case "$__wisp_baseline" in *" $__wisp_v "*) continue ;; esac
      case "$__wisp_v" in __wisp_* | BASH_* | PIPESTATUS | _) continue ;; esac
      declare -p "$__wisp_v"
    done
    for __wisp_f in $(compgen -A function); do
      case "$__wisp_f" in __wisp_* | curl) continue ;; esac
      declare -f "$__wisp_f"
    done
  } > ${quoted(stateFile)}
}
trap __wisp_save EXIT
set -euo pipefail
${errorsOk ? '' : 'curl() { command curl --fail-with-body --silent --show-error "$@"; }'}
${code}`;
}

/** The environment of the blocks: this one, without what tap sets up for its own node processes. */
function blockEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const key of Object.keys(env)) {
    if (key === 'NODE_OPTIONS' || key === 'NODE_V8_COVERAGE' || key.startsWith('TAP')) delete env[key];
  }
  return env;
}

interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
}

/** Runs bash in its own process group, so that a timeout stops the curl it waits on too. */
async function runBash(source: string, env: NodeJS.ProcessEnv): Promise<Run> {
  const child = spawn('bash', ['-c', source], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    process.kill(-child.pid!, 'SIGKILL');
  }, BLOCK_TIMEOUT_MS);
  const [code, signal] = (await once(child, 'close')) as [number | null, NodeJS.Signals | null];
  clearTimeout(timer);
  return { code, signal, stdout, stderr, timedOut };
}

interface Delivery {
  headers: IncomingHttpHeaders;
  body: string;
}

/** Stands in for https://example.com/hooks/wisp: resolves with the first request it gets. */
async function startReceiver(t: Test): Promise<{ url: string; delivered: Promise<Delivery> }> {
  let deliver!: (delivery: Delivery) => void;
  const delivered = new Promise<Delivery>((resolve) => (deliver = resolve));
  const server = createServer((request, response) => {
    let body = '';
    request.setEncoding('utf8').on('data', (chunk: string) => (body += chunk));
    request.on('end', () => {
      response.end();
      deliver({ headers: request.headers, body });
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.teardown(() => {
    server.closeAllConnections();
    server.close();
  });
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks/wisp`, delivered };
}

function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not happen within ${ms} ms`)), ms);
  });
  return Promise.race([promise, late]).finally(() => clearTimeout(timer));
}

const repoFiles = () => ({ root: readdirSync(ROOT).sort(), functions: readdirSync(join(ROOT, 'functions')).sort() });

t.test('README.md runs top to bottom against a fresh Wisp', async (t) => {
  const blocks = readmeBlocks(README);
  const shellBlocks = blocks.filter((block) => SHELLS.has(block.lang));
  t.ok(shellBlocks.length >= 10, `README.md has shell blocks to run (${shellBlocks.length})`);

  for (const block of blocks) {
    const marker = block.marker;
    if (marker === undefined || marker === 'skip' || marker === 'errors-ok') continue;
    const file = /^file (\S+)$/.exec(marker)?.[1];
    if (!file) {
      t.fail(`README.md:${block.line}: unknown marker "readme-test: ${marker}"`);
      continue;
    }
    t.equal(block.code, readFileSync(join(ROOT, file), 'utf8'), `README.md:${block.line} is ${file}, as it is`);
  }
  for (const block of shellBlocks.filter((b) => b.marker === 'skip')) {
    t.match(block.code, /\bnpm (?:start|test|run cluster)\b/, `README.md:${block.line} is skipped: it starts Wisp or runs the tests`);
  }

  const dir = tempDir();
  const dataDir = join(dir, 'data');
  const stateFile = join(dir, 'shell-state.sh');
  writeFileSync(stateFile, '');
  const receiver = await startReceiver(t);
  const wisp = await startWispProcess(dataDir, {}, { supervised: true });
  t.teardown(async () => {
    wisp.child.kill('SIGTERM');
    const stopped = await within(wisp.exited, 10_000, 'a graceful stop').catch(() => undefined);
    if (!stopped) wisp.child.kill('SIGKILL');
  });
  const address = new URL(wisp.url).host;
  const env = blockEnv();
  const before = repoFiles();

  let failed: string | undefined;
  for (const block of shellBlocks) {
    const name = `README.md:${block.line}`;
    if (block.marker === 'skip') {
      t.comment(`${name}: skipped (readme-test: skip)`);
      continue;
    }
    if (failed) {
      t.fail(`${name} not run: ${failed} failed`);
      continue;
    }
    const code = block.code.replace(README_ADDRESS, address).replaceAll(CALLBACK_URL, receiver.url);
    const run = await runBash(script(code, stateFile, block.marker === 'errors-ok'), env);
    const showRun = () => t.comment(`${name}, as run:\n${code}--- stdout\n${run.stdout}\n--- stderr\n${run.stderr}`);
    if (run.code !== 0) {
      failed = name;
      t.fail(`${name} exits 0`, { exit: run.timedOut ? `killed after ${BLOCK_TIMEOUT_MS} ms` : (run.code ?? run.signal) });
      showRun();
      continue;
    }
    const pieces = promisedOutput(code);
    const missing = firstMissing(run.stdout, pieces);
    t.equal(missing, undefined, `${name} exits 0 and prints what its # → comments say (${pieces.length} pieces)`);
    if (missing !== undefined) {
      failed = name;
      showRun();
    }
  }

  t.same(repoFiles(), before, 'the blocks leave no file behind in the repository');

  t.ok(README.includes(CALLBACK_URL), 'the README submits an invocation with a callback URL');
  if (!failed) {
    const delivery = await within(receiver.delivered, 10_000, 'the callback');
    const id = String(delivery.headers['webhook-id']);
    const timestamp = String(delivery.headers['webhook-timestamp']);
    const secret = readFileSync(join(dataDir, 'callback-signing-secret'), 'utf8').trim();
    const key = Buffer.from(secret.replace(/^whsec_/, ''), 'base64');
    const signature = createHmac('sha256', key).update(`${id}.${timestamp}.${delivery.body}`).digest('base64');
    t.equal(delivery.headers['webhook-signature'], `v1,${signature}`, 'the callback is signed with the data dir secret, the Standard Webhooks way');
    const record = JSON.parse(delivery.body) as { id: string; mode: string; status: string; callback: { url: string } | null };
    t.match(record, { mode: 'async', status: 'succeeded', callback: { url: receiver.url } }, 'the callback carries the final record');
    t.ok(id.startsWith(`${record.id}.`), 'its webhook-id is the invocation id and attempt');
  }
});
