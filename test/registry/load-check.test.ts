// The deploy-time load check runs a module's top level in a child process of its own: a top level
// that runs out of memory (a fatal V8 abort, which in a worker thread would take the whole gateway
// with it), calls process.exit(), loops forever or throws gets 400 INVALID_FUNCTION saying what
// happened, and the gateway, the other functions and the previous version go on serving.
import t, { type Test } from 'tap';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { startWispProcess } from '../helpers/process.js';
import { assertProblem, deploy, invoke, mustDeploy, startWisp, type App } from '../helpers/wisp.js';
import { tempDir } from '../helpers/temp-dir.js';

const LOAD_TIMEOUT_MS = 2000;

/** Polls until `check` holds, at most `withinMs`; the caller asserts on what it returns. */
async function eventually(check: () => boolean, withinMs = 10_000): Promise<boolean> {
  const end = Date.now() + withinMs;
  while (!check()) {
    if (Date.now() > end) return false;
    await sleep(20);
  }
  return true;
}

/** Whether a process is still there (a zombie, exited but not yet reaped, counts as gone). */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  if (process.platform !== 'linux') return true;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

/** A module that writes its pid to `pidFile` at top level, then never finishes loading. */
const writesPidThenSpins = (pidFile: string) =>
  `import { writeFileSync } from 'node:fs';\nwriteFileSync(${JSON.stringify(pidFile)}, String(process.pid));\nfor (;;) {}\nexport default () => 1;`;

/** After a refused deploy: the gateway is up, a bystander answers, the previous version serves. */
async function stillServing(t: Test, app: App, name: string, previous: string): Promise<void> {
  t.equal((await app.inject('/healthz')).statusCode, 200, 'GET /healthz is 200');
  const bystander = await invoke(app, 'bystander', { n: 7 });
  t.equal(bystander.statusCode, 200, `the bystander answers (${bystander.body.slice(0, 200)})`);
  t.same(bystander.json(), { echo: { n: 7 } });
  const same = await invoke(app, name);
  t.equal(same.statusCode, 200, `the previous version answers (${same.body.slice(0, 200)})`);
  t.equal(same.json(), previous);
  t.match((await app.inject(`/v1/functions/${name}`)).json(), { activeVersion: 1, latestVersion: 1 }, 'the refused deploy took no version');
}

t.test('a top level that crashes, exits, loops or throws is refused and takes nothing down', async (t) => {
  const app = await startWisp(t, { functions: { loadTimeoutMs: LOAD_TIMEOUT_MS } });
  await mustDeploy(t, app, 'bystander', 'export default (input: unknown) => ({ echo: input });');

  const cases: { name: string; source: string; detail: RegExp; line?: number }[] = [
    {
      // V8's fatal out-of-memory: the heap cap is 128 MB (functions.defaultMemoryMb).
      name: 'huge-string',
      source: 'let s = "x".repeat(100 * 1024 * 1024);\nlet t = JSON.stringify(s) + s;\nconst size = Buffer.byteLength(t);\nexport default () => size;',
      detail: /^the module (crashed|ran out of memory) while loading: .*out of memory|^the module ran out of memory while loading: the process held/,
    },
    {
      name: 'exits',
      source: 'process.exit(3);\nexport default () => "never";',
      detail: /^the module crashed while loading: the process exited with code 3 before the load finished/,
    },
    {
      name: 'spins',
      source: 'for (;;) {}\nexport default () => "never";',
      detail: new RegExp(`^the module did not finish loading within ${LOAD_TIMEOUT_MS} ms \\(an endless loop at top level\\?\\)`),
    },
    {
      // Buffers live outside the heap: its cap does not see them; the check after the load does.
      name: 'holds-buffers',
      source: 'const kept = Buffer.alloc(200 * 1024 * 1024, 1);\nexport default () => kept.length;',
      detail: /^the module ran out of memory while loading: it holds 2\d\d MB of Buffer memory \(outside the heap\) once loaded, past its 128 MB memory limit/,
    },
    {
      // Buffer memory growing while it loads is stopped on the way, not after (the bound is
      // twice the 128 MB limit plus 128 MB for Node itself), long before the 1.28 GB it asks for.
      name: 'grows-buffers',
      source: 'const kept: Buffer[] = [];\nfor (let i = 0; i < 40; i++) kept.push(Buffer.alloc(32 * 1024 * 1024, 1));\nexport default () => kept.length;',
      detail: /^the module ran out of memory while loading: the process held \d+ MB, past the load check's 384 MB bound/,
    },
    {
      name: 'throws',
      source: 'const a = 1;\nconst b: number = 2;\n\nif (a < b) throw new RangeError("no settings for " + a);\nexport default () => "never";',
      detail: /^the module threw while loading at throws\.ts:4:\d+: RangeError: no settings for 1$/,
      line: 4,
    },
  ];

  for (const c of cases) {
    await t.test(c.name, async (t) => {
      await mustDeploy(t, app, c.name, `export default () => "v1 of ${c.name}";`);
      const body = assertProblem(t, await deploy(app, c.name, c.source), 400, 'INVALID_FUNCTION');
      t.match(body.detail, c.detail);
      if (c.line !== undefined) {
        t.equal(body.line, c.line, 'the line is mapped back to the TypeScript source');
        t.equal(body.file, `${c.name}.ts`);
        t.type(body.column, 'number');
      }
      await stillServing(t, app, c.name, `v1 of ${c.name}`);
    });
  }

  await t.test('a normal module deploys as before', async (t) => {
    await mustDeploy(t, app, 'normal', 'export default () => "v1";');
    const v2 = await deploy(app, 'normal', 'export const config = { timeoutMs: 1234 };\nexport class Counter { n = 0; }\nexport default () => "v2";');
    t.equal(v2.statusCode, 201, v2.body.slice(0, 300));
    t.match(v2.json(), { version: 2, config: { timeoutMs: 1234 }, exports: { handler: true, fetch: false, classes: ['Counter'] } });
    t.equal((await invoke(app, 'normal')).json(), 'v2');
    t.same((await invoke(app, 'bystander', 1)).json(), { echo: 1 });
  });
});

t.test("the load check sees none of the gateway's environment or node flags", async (t) => {
  process.env.WISP_LOAD_CHECK_PROBE = 'a-token-of-the-gateway';
  t.teardown(() => delete process.env.WISP_LOAD_CHECK_PROBE);
  const app = await startWisp(t);
  // The module reports what it sees by throwing it: the message comes back in the detail.
  const body = assertProblem(
    t,
    await deploy(
      app,
      'nosy',
      'const { PATH, NODE_OPTIONS } = process.env;\nthrow new Error("SAW " + JSON.stringify({ keys: Object.keys(process.env), PATH, NODE_OPTIONS, execArgv: process.execArgv }));\nexport default () => 1;',
    ),
    400,
    'INVALID_FUNCTION',
  );
  const report = /SAW (\{.*\})$/.exec(String(body.detail));
  if (!report) return t.fail(`the module's report is not in the detail: ${body.detail}`);
  const seen = JSON.parse(report[1]!) as { keys: string[]; PATH?: string; NODE_OPTIONS?: string; execArgv: string[] };
  t.notOk(seen.keys.includes('WISP_LOAD_CHECK_PROBE'), "the gateway's variables are not passed on");
  // tap's coverage hook (@tapjs/processinfo) adds its own variables to every process spawned.
  const tapsOwn = (key: string) =>
    key.startsWith('_TAPJS_PROCESSINFO_') || (key === 'NODE_OPTIONS' && seen.NODE_OPTIONS === process.env.NODE_OPTIONS && /@tapjs\/processinfo/.test(seen.NODE_OPTIONS ?? ''));
  const passed = seen.keys.filter((key) => !tapsOwn(key));
  t.same(passed, process.env.PATH === undefined ? [] : ['PATH'], `only PATH is passed on (saw ${seen.keys.join(', ')})`);
  t.equal(seen.PATH, process.env.PATH);
  t.same(seen.execArgv, ['--max-old-space-size=128'], "the gateway's own node flags are not passed on");
});

t.test('at most two load checks run at once; the others wait their turn', async (t) => {
  const dir = tempDir();
  const app = await startWisp(t, { functions: { loadTimeoutMs: 30_000 } });
  // Each module marks itself inside while its top level runs, notes how many are inside with it,
  // and stays until the test writes the release file.
  const source = (name: string) => `import { existsSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
const dir = ${JSON.stringify(dir)};
writeFileSync(dir + '/inside-${name}', '');
writeFileSync(dir + '/seen-${name}', String(readdirSync(dir).filter((f) => f.startsWith('inside-')).length));
const nap = new Int32Array(new SharedArrayBuffer(4));
while (!existsSync(dir + '/release')) Atomics.wait(nap, 0, 0, 10);
rmSync(dir + '/inside-${name}');
export default () => '${name}';`;
  const names = ['burst-a', 'burst-b', 'burst-c', 'burst-d'];
  const deploys = names.map((name) => deploy(app, name, source(name)));
  const files = (prefix: string) => readdirSync(dir).filter((f) => f.startsWith(prefix));
  t.ok(await eventually(() => files('inside-').length >= 2), 'two load checks are running');
  // Were there no limit, the other two would be inside too by now (a start takes ~0.1 s).
  await sleep(1500);
  t.equal(files('inside-').length, 2, 'no third one started');
  t.equal(files('seen-').length, 2);
  t.equal((await invoke(app, 'burst-a')).statusCode, 404, 'none has been deployed yet');
  writeFileSync(join(dir, 'release'), '');
  for (const [i, res] of (await Promise.all(deploys)).entries()) t.equal(res.statusCode, 201, `${names[i]} deployed (${res.body.slice(0, 200)})`);
  const seen = names.map((name) => Number(readFileSync(join(dir, `seen-${name}`), 'utf8')));
  t.ok(seen.every((n) => n >= 1 && n <= 2), `each saw at most two running (${seen.join(', ')})`);
  t.equal((await invoke(app, 'burst-d')).json(), 'burst-d');
});

t.test('closing the gateway kills a load check in progress', async (t) => {
  const pidFile = join(tempDir(), 'pid');
  const app = await startWisp(t, { functions: { loadTimeoutMs: 60_000 } });
  const pending = deploy(app, 'endless', writesPidThenSpins(pidFile));
  t.ok(await eventually(() => existsSync(pidFile) && readFileSync(pidFile, 'utf8') !== ''), 'the load check started');
  const pid = Number(readFileSync(pidFile, 'utf8'));
  t.ok(alive(pid), 'it is running');
  await app.close();
  assertProblem(t, await pending, 503, 'SHUTTING_DOWN');
  t.notOk(alive(pid), 'the child is gone once the gateway has closed');
});

t.test('a load check does not outlive a gateway that is killed', async (t) => {
  const dir = tempDir();
  const pidFile = join(dir, 'pid');
  const wisp = await startWispProcess(join(dir, 'data'));
  t.teardown(() => wisp.child.kill('SIGKILL'));
  const pending = fetch(`${wisp.url}/v1/functions/endless`, {
    method: 'PUT',
    headers: { 'content-type': 'application/typescript' },
    body: writesPidThenSpins(pidFile),
  }).catch(() => 'cut off');
  t.ok(await eventually(() => existsSync(pidFile) && readFileSync(pidFile, 'utf8') !== ''), 'the load check started');
  const pid = Number(readFileSync(pidFile, 'utf8'));
  t.ok(alive(pid), 'it is running');
  wisp.child.kill('SIGKILL');
  await wisp.exited;
  t.equal(await pending, 'cut off');
  // The deploy's own deadline is 10 s and the child's backstop later still: only noticing that
  // its parent is gone (while its main thread spins) ends it within this wait.
  t.ok(await eventually(() => !alive(pid), 5000), 'the orphaned child ends itself');
});
