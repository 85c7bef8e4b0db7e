// Hibernation (idleSuspendMs): an idle instance is checkpointed and stopped, its resources freed,
// status `hibernated`; the next call or socket wakes it with its state, and nobody resumes it.
import t from 'tap';
import { assertProblem, fixture, mustDeploy, startWisp, type App } from '../helpers/wisp.js';
import { allocated, callMethod, instanceAction, mustCreate, roomy, startWithCounter } from '../helpers/instances.js';
import { tempDir } from '../helpers/temp-dir.js';
import { listenForSockets, openSocket } from '../helpers/sockets.js';

const statusOf = async (app: App, id: string) => (await app.inject({ method: 'GET', url: `/v1/instances/${id}` })).json().status as string;

/** Waits for the instance to reach `status` (hibernation has no event a client can await). */
async function reaches(app: App, id: string, status: string): Promise<void> {
  while ((await statusOf(app, id)) !== status) await new Promise((resolve) => setTimeout(resolve, 10));
}

t.test('idle for idleSuspendMs: hibernated, resources freed; the next call wakes it with its state', async (t) => {
  const app = await startWithCounter(t);
  const id = await mustCreate(t, app, 'counter', { args: [5], idleSuspendMs: 100 });
  t.equal((await callMethod(app, id, 'add', [2])).body, '7');
  await reaches(app, id, 'hibernated');
  const asleep = (await app.inject({ method: 'GET', url: `/v1/instances/${id}` })).json();
  t.equal(asleep.idleSuspendMs, 100);
  t.type(asleep.checkpointedAt, 'string', 'checkpointed on the way to sleep');
  t.same(await allocated(app), { cpu: 0, memory: 0, custom: {} }, 'a hibernated instance holds nothing');
  t.same((await app.inject({ method: 'GET', url: '/v1/instances?status=hibernated' })).json().instances.map((i: { id: string }) => i.id), [id]);

  t.equal((await callMethod(app, id, 'add', [1])).body, '8', 'woken by the call, state intact, constructor not run again');
  t.equal(await statusOf(app, id), 'running');
  t.same(await allocated(app), { cpu: 500, memory: 500, custom: {} });
  t.equal((await app.inject({ method: 'GET', url: `/v1/instances/${id}` })).json().restarts, 0, 'a wake is not a restart');
});

t.test('calls that arrive together wake it once and all run', async (t) => {
  const app = await startWithCounter(t);
  const id = await mustCreate(t, app, 'counter', { idleSuspendMs: 50 });
  await reaches(app, id, 'hibernated');
  const answers = await Promise.all(Array.from({ length: 20 }, () => callMethod(app, id, 'add', [1])));
  t.same(answers.map((a) => a.statusCode), Array(20).fill(200));
  t.same(answers.map((a) => Number(a.body)).sort((a, b) => a - b), Array.from({ length: 20 }, (_, i) => i + 1));
  t.same(await allocated(app), { cpu: 500, memory: 500, custom: {} }, 'one thread, one reservation');
});

t.test('a call longer than idleSuspendMs is not cut; idle time counts from its end', async (t) => {
  const app = await startWithCounter(t);
  const id = await mustCreate(t, app, 'counter', { idleSuspendMs: 30 });
  t.equal((await callMethod(app, id, 'addLater', [3, 300])).body, '3');
  await reaches(app, id, 'hibernated');
  t.equal((await callMethod(app, id, 'get')).body, '3');
});

t.test('an open socket keeps it awake; a socket wakes it', async (t) => {
  const app = await startWisp(t, roomy);
  await mustDeploy(t, app, 'room', fixture('room.ts'));
  const held = await mustCreate(t, app, 'room', { class: 'Room', idleSuspendMs: 100 });
  const base = await listenForSockets(app);
  const client = await openSocket(`${base}/v1/instances/${held}/ws`);
  await client.nextJson();
  client.send('before sleep');
  await client.nextJson();
  // Made after the socket's last frame with the same idle time: once it sleeps, `held` has been idle as long.
  const witness = await mustCreate(t, app, 'room', { class: 'Room', idleSuspendMs: 100 });
  await reaches(app, witness, 'hibernated');
  t.equal(await statusOf(app, held), 'running', 'a socket is open: it stays awake');
  client.ws.close(1000, 'bye');
  await reaches(app, held, 'hibernated');

  const again = await openSocket(`${base}/v1/instances/${held}/ws`);
  t.equal((await again.nextJson()).present, 1, 'the upgrade woke it');
  t.same((await callMethod(app, held, 'history')).json().lines, ['before sleep'], 'with its state');
  t.equal(await statusOf(app, held), 'running');
});

t.test('the function config sets the default; 0 turns it off', async (t) => {
  const app = await startWisp(t, roomy);
  await mustDeploy(t, app, 'sleepy', 'export const config = { idleSuspendMs: 60000 };\nexport class C { get() { return 1; } }\n');
  const byDefault = await mustCreate(t, app, 'sleepy');
  const never = await mustCreate(t, app, 'sleepy', { idleSuspendMs: 0 });
  t.equal((await app.inject({ method: 'GET', url: `/v1/instances/${byDefault}` })).json().idleSuspendMs, 60000);
  t.equal((await app.inject({ method: 'GET', url: `/v1/instances/${never}` })).json().idleSuspendMs, null);
  assertProblem(t, await app.inject({ method: 'POST', url: '/v1/functions/sleepy/instances', headers: { 'content-type': 'application/json' }, payload: '{"idleSuspendMs":-1}' }), 400, 'INVALID_REQUEST');
  const bad = await app.inject({ method: 'PUT', url: '/v1/functions/bad', headers: { 'content-type': 'application/typescript' }, payload: 'export const config = { idleSuspendMs: 1.5 };\nexport class C {}\n' });
  assertProblem(t, bad, 400, 'INVALID_CONFIG');
});

t.test('suspend of a hibernated instance makes it suspended: calls get 409 until a resume', async (t) => {
  const app = await startWithCounter(t);
  const id = await mustCreate(t, app, 'counter', { args: [4], idleSuspendMs: 50 });
  await reaches(app, id, 'hibernated');
  t.equal((await instanceAction(app, id, 'suspend')).json().status, 'suspended');
  assertProblem(t, await callMethod(app, id, 'get'), 409, 'INSTANCE_SUSPENDED');
  t.equal((await instanceAction(app, id, 'resume')).json().status, 'running');
  t.equal((await callMethod(app, id, 'get')).body, '4');
});

t.test('a hibernated instance stays asleep across a restart of Wisp, and wakes on a call', async (t) => {
  const dataDir = tempDir();
  const first = await startWithCounter(t, roomy, dataDir);
  const id = await mustCreate(t, first, 'counter', { args: [9], idleSuspendMs: 50 });
  await reaches(first, id, 'hibernated');
  await first.close();
  const second = await startWisp(t, roomy, dataDir);
  t.equal(await statusOf(second, id), 'hibernated');
  t.same(await allocated(second), { cpu: 0, memory: 0, custom: {} }, 'not started at boot');
  t.equal((await callMethod(second, id, 'add', [1])).body, '10');
});
