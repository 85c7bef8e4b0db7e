// The `wisp` commands, the real executable against a real Wisp process: deploy (a file, a
// directory with its imports), invoke (sync, --async, --wait, stdin), ls, versions, rollback,
// logs, invocations, instances, groups, triggers, env; --json for scripts; and errors as one
// line `error CODE: …` with the documented exit codes (1 failed, 2 usage, 4 unreachable).
import t from 'tap';
import type { Test } from 'tap';
import { once } from 'node:events';
import { mkdirSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { runWisp } from '../helpers/cli.js';
import { startWispProcess } from '../helpers/process.js';
import { tempDir } from '../helpers/temp-dir.js';

const HELLO = 'export default (input: { name: string }) => { console.log("greeting", input.name); return `Hello, ${input.name}!`; };\n';
const COUNTER = 'export class Counter { n = 0; constructor(start = 0) { this.n = start; } add(k: number) { this.n += k; return this.n; } }\n';

async function setUp(t: Test) {
  const wisp = await startWispProcess(tempDir());
  t.teardown(() => void wisp.child.kill('SIGKILL'));
  const dir = tempDir();
  const env = { WISP_URL: wisp.url };
  const run = (...args: string[]) => runWisp(args, env, { cwd: dir });
  return { wisp, dir, env, run };
}

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
});

t.test('instances and groups: create, call, suspend, resume, kill', async (t) => {
  const { dir, run } = await setUp(t);
  writeFileSync(join(dir, 'counter.ts'), COUNTER);
  t.equal((await run('deploy', 'counter.ts')).code, 0);
  const id = (await run('create', 'counter', '--args', '[10]')).stdout.trim();
  t.match(id, /^ins_/);
  t.equal((await run('call', id, 'add', '5')).stdout, '15\n');
  t.match((await run('instances')).stdout, new RegExp(`${id}\\s+counter@1\\s+Counter\\s+running`));
  t.equal((await run('suspend', id)).stdout, `${id} suspended\n`);
  t.equal((await run('resume', id)).stdout, `${id} running\n`);
  t.equal((await run('call', id, 'add', '1')).stdout, '16\n', 'state kept across suspend and resume');
  t.equal((await run('kill', id)).stdout, `deleted ${id}\n`);
  const gone = await run('call', id, 'add', '1');
  t.same([gone.code, gone.stderr.split(':')[0]], [1, 'error INSTANCE_NOT_FOUND']);

  writeFileSync(join(dir, 'team.json'), JSON.stringify({ name: 'team', instances: [{ function: 'counter' }, { function: 'counter' }] }));
  const created = await run('group', 'create', 'team.json');
  t.equal(created.code, 0, created.stderr);
  t.match(created.stdout, /^team running\nMEMBER/);
  t.match((await run('groups')).stdout, /team\s+running\s+2\s/);
  t.equal((await run('group', 'suspend', 'team')).stdout, 'team suspended\n');
  t.equal((await run('group', 'resume', 'team')).stdout, 'team running\n');
  t.equal((await run('group', 'rm', 'team')).stdout, 'deleted team\n');
});

t.test('triggers: a cron schedule and a webhook, listed without their secrets', async (t) => {
  const { dir, run } = await setUp(t);
  writeFileSync(join(dir, 'hello.ts'), HELLO);
  await run('deploy', 'hello.ts');
  const cron = await run('trigger', 'add', 'hello', '--cron', '0 3 * * *', '--input', '{"name":"cron"}');
  t.equal(cron.code, 0, cron.stderr);
  t.match(cron.stdout, /^trg_[0-9a-f]{20} 0 3 \* \* \*, next /);
  const hook = await run('trigger', 'add', 'hello', '--github', 'a-long-secret');
  t.match(hook.stdout, /github \/hooks\/trg_/);
  const listed = await run('triggers', 'hello');
  t.match(listed.stdout, /cron/);
  t.notMatch(listed.stdout, /a-long-secret/);
  const two = await run('trigger', 'add', 'hello', '--github', 'x', '--cron', '* * * * *');
  t.same([two.code, two.stderr.trim()], [2, 'error INVALID_ARGUMENT: give exactly one of --github, --stripe, --standard, --cron (got --github, --cron)']);
  const id = cron.stdout.split(' ')[0]!;
  t.equal((await run('trigger', 'rm', 'hello', id)).stdout, `deleted ${id}\n`);
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
