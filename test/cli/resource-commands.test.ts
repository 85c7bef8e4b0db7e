// The `wisp` commands for instances, groups and triggers, the real executable against a real
// Wisp process: create, call, suspend, resume, kill; group create, suspend, resume, rm; trigger
// add (cron, webhook) and rm, listed without their secrets.
import t from 'tap';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startCliWisp as setUp } from '../helpers/cli.js';

const HELLO = 'export default (input: { name: string }) => `Hello, ${input.name}!`;\n';
const COUNTER = 'export class Counter { n = 0; constructor(start = 0) { this.n = start; } add(k: number) { this.n += k; return this.n; } }\n';

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
