// Shutdown is bounded by shutdown.graceMs whatever instances do: an instance spinning in a call
// under a long timeoutMs has its thread stopped at the end of the grace and keeps its last
// checkpoint (the log says so, with its id), a state too large to checkpoint is logged and left,
// and the process exits 0. After the restart the gateway serves as before.
import t, { type Test } from 'tap';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fixture, startWisp } from '../helpers/wisp.js';
import { callMethod, mustCreate, mustCreateGroup, roomy } from '../helpers/instances.js';
import { send, startWispProcess, type WispProcess } from '../helpers/process.js';
import { shutDown } from '../../dist/shutdown.js';
import { startGate } from '../helpers/gate.js';
import { tempDir } from '../helpers/temp-dir.js';

// A user's class whose method never returns; its function allows calls of ten minutes.
const SPINNER = `
export const config = { timeoutMs: 600000 };
export class Spinner {
  turns = 0;
  turn() { return ++this.turns; }
  spin() {
    process.stdout.write('spinning ' + this.ctx.instanceId + '\\n');
    for (;;) {}
  }
  /** Tells the test's gate it has started, then spins once the gate opens. */
  async spinAfter(gateUrl: string) {
    await (await fetch(gateUrl)).text();
    for (;;) {}
  }
}
export class Hoarder {
  text = '';
  keep(mb: number) { this.text = 'x'.repeat(mb * 1024 * 1024); return this.text.length; }
  get() { return this.text.length; }
}
`;
const HELLO = 'export default (input: { name: string }) => `hello ${input.name}`;';

/**
 * A Wisp process whose grace period is short. Its checkpoint timeout is far past the test's own
 * timeout: only the grace can end a stop held by an instance in time.
 */
async function start(t: Test, dir: string): Promise<WispProcess> {
  const configFile = join(dir, 'wisp.json');
  writeFileSync(configFile, JSON.stringify({ shutdown: { graceMs: 1000 }, instances: { checkpointTimeoutMs: 600000 }, node: { cpu: 100000, memory: 100000, custom: {} } }));
  const wisp = await startWispProcess(join(dir, 'data'), { WISP_CONFIG: configFile });
  t.teardown(() => wisp.child.kill('SIGKILL'));
  // On a loaded machine, a start that restores instances can delay the event loop past
  // pressure.maxEventLoopDelayMs, and the node then rightly sheds load for a second: what is
  // tested here comes after it serves.
  while ((await send(wisp.url, 'GET', '/v1/functions')).status === 503) await new Promise((resolve) => setTimeout(resolve, 100));
  return wisp;
}

async function deployAll(t: Test, url: string): Promise<void> {
  for (const [name, source] of [['spinner', SPINNER], ['counter', fixture('counter.ts')], ['hello', HELLO]] as const) {
    t.equal((await send(url, 'PUT', `/v1/functions/${name}`, source)).status, 201, `deployed ${name}`);
  }
}

async function stillServing(t: Test, url: string): Promise<void> {
  t.equal((await send(url, 'GET', '/healthz')).status, 200, '/healthz answers');
  t.equal((await send(url, 'POST', '/v1/functions/hello/invoke', { name: 'you' })).json, 'hello you', 'an unrelated function runs');
}

t.test('SIGTERM with a method spinning under a long timeout: the spinner is stopped at the grace, keeps its checkpoint, the rest is checkpointed, exit 0', async (t) => {
  const dir = tempDir();
  const first = await start(t, dir);
  await deployAll(t, first.url);
  const counter = (await send(first.url, 'POST', '/v1/functions/counter/instances', { args: [10] })).json.id as string;
  t.equal((await send(first.url, 'POST', `/v1/instances/${counter}/methods/add`, [5])).json, 15);
  const spinner = (await send(first.url, 'POST', '/v1/functions/spinner/instances', { class: 'Spinner', resources: { cpu: 100, memory: 64 } })).json.id as string;
  // Checkpointed at 2 turns; the third is not in any checkpoint.
  await send(first.url, 'POST', `/v1/instances/${spinner}/methods/turn`, []);
  await send(first.url, 'POST', `/v1/instances/${spinner}/methods/turn`, []);
  t.equal((await send(first.url, 'POST', `/v1/instances/${spinner}/suspend`)).json.status, 'suspended');
  t.equal((await send(first.url, 'POST', `/v1/instances/${spinner}/resume`)).json.status, 'running');
  t.equal((await send(first.url, 'POST', `/v1/instances/${spinner}/methods/turn`, [])).json, 3);

  const spinning = first.line(new RegExp(`^spinning ${spinner}`));
  const call = fetch(`${first.url}/v1/instances/${spinner}/methods/spin`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '[]' }).then(
    (res) => `answered ${res.status}`,
    () => 'cut off',
  );
  await spinning;
  const stopped = first.line(/was still busy at the shutdown deadline/);
  first.child.kill('SIGTERM');
  const [code, signal] = await first.exited;
  t.equal(code, 0, `exit code 0 (signal ${signal})`);
  const warning = JSON.parse(await stopped) as { level: number; msg: string };
  t.equal(warning.level, 40, 'a warning');
  t.match(warning.msg, new RegExp(`^instance ${spinner} was still busy at the shutdown deadline: its thread was stopped; it keeps its checkpoint of \\d{4}-`));
  t.match(await call, /^(cut off|answered 5\d\d)$/, 'the spinning call did not succeed');

  const second = await start(t, dir);
  t.equal((await send(second.url, 'POST', `/v1/instances/${counter}/methods/get`, [])).json, 15, 'the idle instance was checkpointed at the stop');
  t.equal((await send(second.url, 'POST', `/v1/instances/${spinner}/methods/turn`, [])).json, 3, 'the spinner came back from its last checkpoint (2 turns)');
  await stillServing(t, second.url);
  second.child.kill('SIGTERM');
  t.equal((await second.exited)[0], 0);
});

t.test('SIGTERM with an instance whose state is past its checkpoint limit: it is logged and left, exit 0', async (t) => {
  const dir = tempDir();
  const first = await start(t, dir);
  await deployAll(t, first.url);
  const hoarder = (await send(first.url, 'POST', '/v1/functions/spinner/instances', { class: 'Hoarder', resources: { cpu: 100, memory: 64 } })).json.id as string;
  t.equal((await send(first.url, 'POST', `/v1/instances/${hoarder}/methods/keep`, [40])).json, 40 * 2 ** 20);
  const refused = first.line(new RegExp(`instance ${hoarder} not checkpointed at shutdown`));
  first.child.kill('SIGTERM');
  t.equal((await first.exited)[0], 0, 'exit code 0');
  const warning = JSON.parse(await refused) as { msg: string };
  t.match(warning.msg, /over the 16777216-byte checkpoint limit/);
  t.match(warning.msg, /it has no checkpoint: its constructor runs again at the next start/);

  const second = await start(t, dir);
  t.equal((await send(second.url, 'POST', `/v1/instances/${hoarder}/methods/get`, [])).json, 0, 'it started anew');
  await stillServing(t, second.url);
  second.child.kill('SIGTERM');
  t.equal((await second.exited)[0], 0);
});

t.test('a group member spinning and a suspend queued behind a spinning call do not hold the stop', async (t) => {
  const app = await startWisp(t, { ...roomy, instances: { checkpointTimeoutMs: 600_000 } });
  await app.inject({ method: 'PUT', url: '/v1/functions/spinner', headers: { 'content-type': 'application/typescript' }, payload: SPINNER });
  const lone = await mustCreate(t, app, 'spinner', { class: 'Spinner', resources: { cpu: 100, memory: 64 } });
  const [member] = await mustCreateGroup(t, app, { name: 'spinners', instances: [{ function: 'spinner', class: 'Spinner', resources: { cpu: 100, memory: 64 } }] });
  const gate = await startGate(t);
  const loneCall = callMethod(app, lone, 'spinAfter', [gate.url]);
  const memberCall = callMethod(app, member!, 'spinAfter', [gate.url]);
  await gate.arrived(2);
  gate.open();
  // The suspend's checkpoint waits in the mailbox behind the spinning call.
  const suspend = app.wisp.instances.suspend(lone).then(
    () => 'suspended',
    (err: { code?: string }) => err.code,
  );
  // A grace far shorter than the spinner's 10-minute timeout; the stop must still complete.
  await shutDown(app, 300);
  t.equal(await suspend, 'INSTANCE_UNAVAILABLE', 'the queued suspend failed once the thread was stopped');
  t.equal((await loneCall).statusCode, 503, 'the spinning call failed');
  t.equal((await memberCall).statusCode, 503);
});
