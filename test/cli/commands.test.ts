// The `wisp` commands for functions and invocations, the real executable against a real Wisp
// process: deploy (a file, a directory with its imports), invoke (sync, --async, --wait, stdin),
// ls, versions, rollback, logs, invocations, env, token; --json for scripts; and errors as one
// line `error CODE: …` with the documented exit codes (1 failed, 2 usage, 4 unreachable).
import t from 'tap';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { mkdirSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { runWisp, startCliWisp as setUp } from '../helpers/cli.js';
import { tempDir } from '../helpers/temp-dir.js';

const HELLO = 'export default (input: { name: string }) => { console.log("greeting", input.name); return `Hello, ${input.name}!`; };\n';

t.test('deploy, invoke, list, logs and versions, as a person reads them and as JSON', async (t) => {
  const { dir, env, run } = await setUp(t);
  writeFileSync(join(dir, 'hello.ts'), HELLO);
  const deployed = await run('deploy', 'hello.ts');
  t.equal(deployed.code, 0, deployed.stderr);
  t.match(deployed.stdout, /^deployed hello version 1 /);

  const called = await run('invoke', 'hello', '{"name":"Ann"}');
  t.same([called.code, called.stdout], [0, 'Hello, Ann!\n']);
  const piped = await runWisp(['invoke', 'hello', '-'], env, { stdin: '{"name":"Bo"}' });
  t.equal(piped.stdout, 'Hello, Bo!\n', 'the input read from stdin');
  const json = await run('--json', 'invoke', 'hello', '{"name":"Cy"}');
  t.same(JSON.parse(json.stdout), 'Hello, Cy!', '--json prints the raw answer');

  const submitted = await run('invoke', 'hello', '{"name":"Di"}', '--async');
  const id = submitted.stdout.trim();
  t.match(id, /^[0-9a-f-]{36}$/, 'an asynchronous invocation prints its id');
  const followed = await run('logs', id, '--follow');
  t.equal(followed.code, 0, followed.stderr);
  t.match(followed.stdout, /log\s+greeting Di/, 'its console lines');
  t.match(followed.stderr, `invocation ${id} succeeded`);
  const waited = await run('invoke', 'hello', '{"name":"Ed"}', '--async', '--wait');
  t.same([waited.code, waited.stdout], [0, 'Hello, Ed!\n'], '--wait prints the result once it is final');

  const listed = await run('ls');
  t.match(listed.stdout, /^NAME\s+ACTIVE\s+LATEST\s+UPDATED\nhello\s+1\s+1\s/);
  t.same(JSON.parse((await run('--json', 'ls')).stdout).functions.map((f: { name: string }) => f.name), ['hello']);
  const invocations = await run('invocations', '--function', 'hello', '--status', 'succeeded');
  t.equal(invocations.stdout.trim().split('\n').length, 3, 'a header and the two asynchronous invocations');

  writeFileSync(join(dir, 'hello.ts'), HELLO.replace('Hello', 'Hi'));
  t.match((await run('deploy', 'hello.ts')).stdout, /version 2/);
  t.equal((await run('invoke', 'hello', '{"name":"Fay"}')).stdout, 'Hi, Fay!\n');
  t.match((await run('versions', 'hello')).stdout, /^VERSION.*\n1\s.*\n2\s/);
  t.equal((await run('rollback', 'hello', '1')).stdout, 'hello now runs version 1\n');
  t.equal((await run('invoke', 'hello', '{"name":"Gil"}')).stdout, 'Hello, Gil!\n');

  t.equal((await run('env', 'set', 'hello', 'API_KEY=s3cret', 'MODE=test')).code, 0);
  const envList = await run('env', 'ls', 'hello');
  t.match(envList.stdout, /API_KEY/);
  t.notMatch(envList.stdout, /s3cret/, 'values are never shown');
  t.equal((await run('rm', 'hello')).stdout, 'deleted hello\n');
});

t.test('a directory is deployed with the files it imports; --name and --config apply', async (t) => {
  const { dir, run } = await setUp(t);
  const fn = join(dir, 'adder');
  mkdirSync(join(fn, 'lib'), { recursive: true });
  writeFileSync(join(fn, 'index.ts'), 'import { add } from "./lib/add.js";\nexport default (xs: number[]) => add(xs);\n');
  writeFileSync(join(fn, 'lib', 'add.ts'), 'export const add = (xs: number[]) => xs.reduce((a, b) => a + b, 0);\n');
  const deployed = await run('deploy', 'adder', '--name', 'sum', '--config', '{"timeoutMs": 1234}');
  t.equal(deployed.code, 0, deployed.stderr);
  t.match(deployed.stdout, /^deployed sum version 1/);
  t.equal((await run('invoke', 'sum', '[1,2,3]')).stdout, '6\n');
  const versions = JSON.parse((await run('--json', 'versions', 'sum')).stdout);
  t.equal(versions.versions[0].config.timeoutMs, 1234, 'the config was sent with the code');

  // A package from node_modules, and a file big enough (2 MiB that do not compress) for progress.
  const withDeps = join(dir, 'padded');
  mkdirSync(join(withDeps, 'node_modules', 'pad-left'), { recursive: true });
  writeFileSync(join(withDeps, 'node_modules', 'pad-left', 'package.json'), '{"name":"pad-left","main":"index.js"}');
  writeFileSync(join(withDeps, 'node_modules', 'pad-left', 'index.js'), 'module.exports = (s, n) => String(s).padStart(n, "0");');
  writeFileSync(join(withDeps, 'index.ts'), 'import padLeft from "pad-left";\nexport default (n: number) => padLeft(n, 5);\n');
  writeFileSync(join(withDeps, 'noise.bin'), randomBytes(2 * 2 ** 20));
  const big = await run('deploy', 'padded');
  t.equal(big.code, 0, big.stderr);
  t.match(big.stderr, /^uploading padded: 2\.\d MB\n/, 'a large upload says so');
  t.match(big.stderr, /2\.\d MB of 2\.\d MB/, 'and shows its progress');
  t.equal((await run('invoke', 'padded', '42')).stdout, '00042\n', 'its node_modules came with it');
});

t.test('errors: one line naming the code, and the documented exit code', async (t) => {
  const { dir, run } = await setUp(t);
  writeFileSync(join(dir, 'broken.ts'), 'export default (x: number) => {\n  return (x;\n};\n');
  const broken = await run('deploy', 'broken.ts');
  t.equal(broken.code, 1);
  t.match(broken.stderr, /^error INVALID_FUNCTION: broken\.ts:2:\d+/, 'where the mistake is');
  t.equal(broken.stderr.trim().split('\n').length, 1, 'one line');
  const missing = await run('deploy', 'nope.ts');
  t.same([missing.code, missing.stderr], [2, 'error FILE_NOT_FOUND: nope.ts: no such file or directory\n']);
  const unknownFn = await run('invoke', 'nobody');
  t.same([unknownFn.code, unknownFn.stderr.split(':')[0]], [1, 'error FUNCTION_NOT_FOUND']);
  const badJson = await run('invoke', 'nobody', '{oops');
  t.same([badJson.code, badJson.stderr.split(':')[0]], [2, 'error INVALID_JSON']);
  const unknown = await run('frobnicate');
  t.equal(unknown.code, 2);
  t.match(unknown.stderr, /unknown command 'frobnicate'/);
  const flag = await run('ls', '--bogus');
  t.equal(flag.code, 2);
  t.match(flag.stderr, /unknown option '--bogus'/);
  // A port nothing listens on: taken from the OS, then let go.
  const closed = createServer().listen(0, '127.0.0.1');
  await once(closed, 'listening');
  const port = (closed.address() as AddressInfo).port;
  await new Promise((resolve) => closed.close(resolve));
  const unreachable = await runWisp(['ls'], { WISP_URL: `http://127.0.0.1:${port}` });
  t.equal(unreachable.code, 4);
  t.match(unreachable.stderr, new RegExp(`^error UNREACHABLE: cannot reach Wisp at http://127\\.0\\.0\\.1:${port}: ECONNREFUSED`));
  const help = await run('--help');
  t.equal(help.code, 0);
  for (const command of ['deploy', 'invoke', 'logs', 'instances', 'call', 'groups', 'group', 'triggers', 'trigger', 'env', 'token', 'cluster']) t.match(help.stdout, new RegExp(`\\n  ${command}\\b`), `--help lists ${command}`);
  t.match(help.stdout, /Exit codes:[\s\S]*4\s+the Wisp at WISP_URL could not be reached/);
});

t.test('wisp token prints a token once with the config entry that holds its hash', async (t) => {
  const made = await runWisp(['--json', 'token', 'deploy', 'ci']);
  t.equal(made.code, 0);
  const { token, entry, env } = JSON.parse(made.stdout);
  t.match(token, /^[A-Za-z0-9_-]{16,}$/);
  t.same(Object.keys(entry).sort(), ['name', 'scope', 'sha256']);
  t.same([entry.name, entry.scope], ['ci', 'deploy']);
  t.equal(env, `WISP_TOKENS=${token}:deploy`);
  const wrong = await runWisp(['token', 'root']);
  t.same([wrong.code, wrong.stderr.trim()], [2, 'error INVALID_ARGUMENT: the scope must be one of invoke, deploy, admin, not "root"']);
});
