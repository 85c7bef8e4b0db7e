// `wisp dev FILE`, the real executable: with no Wisp at WISP_URL it starts one, deploys the
// file, prints each call's console lines, redeploys when the file is saved (as editors save:
// a new file renamed over the old), keeps the last good version serving when a save does not
// compile (printing where the mistake is), prints a call's error with its source-mapped stack,
// and stops the Wisp it started on Ctrl-C.
import t from 'tap';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { renameSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { WISP_CLI } from '../helpers/cli.js';
import { tempDir } from '../helpers/temp-dir.js';

/** Lines a child prints, and a way to wait for the first (from now on, or already seen) that matches. */
function lines(stream: NodeJS.ReadableStream) {
  const seen: string[] = [];
  const waiting: { pattern: RegExp; from: number; resolve: (line: string) => void }[] = [];
  createInterface({ input: stream }).on('line', (line) => {
    seen.push(line);
    for (const w of waiting.splice(0)) {
      const found = seen.slice(w.from).find((l) => w.pattern.test(l));
      if (found) w.resolve(found);
      else waiting.push(w);
    }
  });
  return {
    seen,
    /** The first line matching `pattern` among those printed since `from` (default: all). */
    next: (pattern: RegExp, from = 0) =>
      new Promise<string>((resolve) => {
        const found = seen.slice(from).find((l) => pattern.test(l));
        if (found) resolve(found);
        else waiting.push({ pattern, from, resolve });
      }),
  };
}

/** Saves as editors do: a new file, renamed over the old. */
function save(path: string, text: string): void {
  writeFileSync(`${path}.tmp`, text);
  renameSync(`${path}.tmp`, path);
}

const call = async (url: string, input: unknown) => {
  const res = await fetch(`${url}/v1/functions/hello/invoke`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(input) });
  return { status: res.status, body: (await res.json()) as unknown };
};

t.test('wisp dev serves a file, redeploys it on save, keeps the last good version, and prints logs and errors', async (t) => {
  const dir = tempDir();
  const file = join(dir, 'hello.ts');
  writeFileSync(file, 'export default (input: { name: string }) => {\n  console.log("hello to", input.name);\n  return "Hello, " + input.name;\n};\n');
  // No Wisp answers at WISP_URL: dev starts its own, on a free port.
  const closed = createServer().listen(0, '127.0.0.1');
  await once(closed, 'listening');
  const nobody = `http://127.0.0.1:${(closed.address() as AddressInfo).port}`;
  await new Promise((resolve) => closed.close(resolve));
  const child = spawn(process.execPath, [WISP_CLI, 'dev', 'hello.ts', '--port', '0', '--data', join(dir, 'data')], {
    cwd: dir,
    env: { PATH: process.env.PATH ?? '', WISP_URL: nobody },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  t.teardown(() => void child.kill('SIGKILL'));
  const out = lines(child.stdout!);
  const err = lines(child.stderr!);

  const started = await out.next(/^started a Wisp at /);
  const url = /at (http:\/\/\S+)/.exec(started)![1]!;
  await out.next(/^serving hello version 1 at /);
  t.same(await call(url, { name: 'Ann' }), { status: 200, body: 'Hello, Ann' });
  t.match(await out.next(/hello to Ann/), /log\s+\S+ v1  hello to Ann$/, 'the call\'s console line, with its version');

  let mark = out.seen.length;
  save(file, 'export default (input: { name: string }) => "Howdy, " + input.name;\n');
  await out.next(/^redeployed hello version 2$/, mark);
  t.same(await call(url, { name: 'Bo' }), { status: 200, body: 'Howdy, Bo' }, 'the saved version serves');

  const errMark = err.seen.length;
  save(file, 'export default (input: { name: string }) => {\n  return ("Hi, " + input.name;\n};\n');
  t.match(await err.next(/^error INVALID_FUNCTION: /, errMark), /hello\.ts:2:\d+/, 'where the mistake is');
  await err.next(/^still serving hello version 2$/, errMark);
  t.same(await call(url, { name: 'Cy' }), { status: 200, body: 'Howdy, Cy' }, 'the last good version still serves');

  mark = out.seen.length;
  save(file, 'export default () => {\n  throw new TypeError("no name");\n};\n');
  await out.next(/^redeployed hello version 3$/, mark);
  t.equal((await call(url, {})).status, 500);
  t.match(await out.next(/ERROR .* v3  FUNCTION_ERROR: /, mark), /TypeError: no name/);
  t.match(await out.next(/hello\.ts:2:\d+/, mark), /at .*hello\.ts:2:\d+/, 'the stack, source-mapped to the file');

  child.kill('SIGINT');
  const [code] = (await once(child, 'exit')) as [number | null];
  t.equal(code, 0, 'Ctrl-C ends it');
  const gone = await fetch(`${url}/healthz`).then(
    () => 'answered',
    () => 'gone',
  );
  t.equal(gone, 'gone', 'and the Wisp it started has stopped');
});

t.test('wisp dev with a file that does not exist says so and exits 2', async (t) => {
  const child = spawn(process.execPath, [WISP_CLI, 'dev', 'nope.ts'], { cwd: tempDir(), env: { PATH: process.env.PATH ?? '' }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (chunk) => (stderr += chunk));
  const [code] = (await once(child, 'exit')) as [number | null];
  t.same([code, stderr], [2, 'error FILE_NOT_FOUND: nope.ts: no such file or directory\n']);
});
