// Listing, deleting, suspending, resuming and restarting instances.
import t from 'tap';
import { startGate } from '../helpers/gate.js';
import { assertProblem, fixture, mustDeploy } from '../helpers/wisp.js';
import { allocated, callMethod, instanceAction, instanceList, mustCreate, startWithCounter } from '../helpers/instances.js';

t.test('list filters by function and status; get shows one; delete makes it 404', async (t) => {
  const app = await startWithCounter(t);
  await mustDeploy(t, app, 'journal', fixture('journal.ts'));
  const a = await mustCreate(t, app, 'counter');
  const b = await mustCreate(t, app, 'counter');
  const j = await mustCreate(t, app, 'journal', { class: 'Journal' });
  await instanceAction(app, b, 'suspend');
  t.same((await instanceList(app)).map((i) => i.id).sort(), [a, b, j].sort());
  t.same((await instanceList(app, '?function=counter')).map((i) => i.id).sort(), [a, b].sort());
  t.same((await instanceList(app, '?status=suspended')).map((i) => i.id), [b]);
  t.same((await instanceList(app, '?function=counter&status=running')).map((i) => i.id), [a]);
  assertProblem(t, await app.inject({ method: 'GET', url: '/v1/instances?status=asleep' }), 400, 'INVALID_REQUEST');
  t.equal((await app.inject({ method: 'GET', url: `/v1/instances/${j}` })).json().class, 'Journal');

  const deleted = await app.inject({ method: 'DELETE', url: `/v1/instances/${a}` });
  t.equal(deleted.statusCode, 204);
  assertProblem(t, await callMethod(app, a, 'get'), 404, 'INSTANCE_NOT_FOUND');
  assertProblem(t, await app.inject({ method: 'GET', url: `/v1/instances/${a}` }), 404, 'INSTANCE_NOT_FOUND');
  assertProblem(t, await app.inject({ method: 'DELETE', url: `/v1/instances/${a}` }), 404, 'INSTANCE_NOT_FOUND');
  t.same(await allocated(app), { cpu: 500, memory: 500, custom: {} }, 'only the journal holds resources');
});

t.test('suspend checkpoints and frees; calls get 409; resume restores the state without the constructor', async (t) => {
  const app = await startWithCounter(t);
  const id = await mustCreate(t, app, 'counter', { args: [5] });
  await callMethod(app, id, 'add', [2]);
  const suspended = await instanceAction(app, id, 'suspend');
  t.equal(suspended.statusCode, 200);
  t.equal(suspended.json().status, 'suspended');
  t.type(suspended.json().checkpointedAt, 'string');
  t.same(await allocated(app), { cpu: 0, memory: 0, custom: {} });
  assertProblem(t, await callMethod(app, id, 'get'), 409, 'INSTANCE_SUSPENDED');
  t.equal((await instanceAction(app, id, 'suspend')).json().status, 'suspended', 'suspending again is harmless');

  const resumed = await instanceAction(app, id, 'resume');
  t.equal(resumed.json().status, 'running');
  t.equal(resumed.json().id, id);
  // The constructor would have reset count to 5; the checkpoint holds 7.
  t.equal((await callMethod(app, id, 'get')).body, '7');
  t.equal((await callMethod(app, id, 'add', [1])).body, '8', 'methods still work after restore');
  t.equal((await instanceAction(app, id, 'resume')).json().status, 'running', 'resuming a running instance is harmless');
});

t.test('a call running when suspend arrives finishes before the checkpoint', async (t) => {
  const app = await startWithCounter(t);
  const gate = await startGate(t);
  const id = await mustCreate(t, app, 'counter');
  const slow = callMethod(app, id, 'addAfter', [4, gate.url]);
  await gate.arrived(1);
  // Straight to the manager: over HTTP the suspend could reach it after the call below.
  const suspended = app.wisp.instances.suspend(id);
  await new Promise(setImmediate); // let the suspend take the instance's mutex
  await t.rejects(app.wisp.instances.call(id, 'get', []), { code: 'INSTANCE_SUSPENDED' }, 'new calls are refused while it checkpoints');
  gate.open();
  t.equal((await slow).body, '4');
  t.equal((await suspended).status, 'suspended');
  await instanceAction(app, id, 'resume');
  t.equal((await callMethod(app, id, 'get')).body, '4', 'the checkpoint has the running call in it');
});

t.test('snapshot() and restore(state) replace the default checkpoint', async (t) => {
  const app = await startWithCounter(t);
  await mustDeploy(t, app, 'journal', fixture('journal.ts'));
  const id = await mustCreate(t, app, 'journal', { class: 'Journal' });
  await callMethod(app, id, 'write', ['one']);
  await callMethod(app, id, 'write', ['two']);
  await instanceAction(app, id, 'suspend');
  await instanceAction(app, id, 'resume');
  t.same((await callMethod(app, id, 'read')).json(), { entries: ['one', 'two'], restoredFrom: 'snapshot' });
});

t.test('state that cannot be checkpointed is 422 and the instance keeps running', async (t) => {
  const app = await startWithCounter(t);
  await mustDeploy(t, app, 'journal', fixture('journal.ts'));
  const id = await mustCreate(t, app, 'journal', { class: 'Unclonable' });
  const body = assertProblem(t, await instanceAction(app, id, 'suspend'), 422, 'CHECKPOINT_FAILED');
  t.match(body.detail, /could not be cloned/);
  t.equal((await callMethod(app, id, 'ping')).body, '"pong"');
  t.equal((await app.inject({ method: 'GET', url: `/v1/instances/${id}` })).json().status, 'running');
});

t.test('resume that no longer fits is 503 INSUFFICIENT_RESOURCES and stays suspended', async (t) => {
  const app = await startWithCounter(t, { node: { cpu: 1000, memory: 10_000, custom: {} } });
  const first = await mustCreate(t, app, 'counter', { resources: { cpu: 600 } });
  await instanceAction(app, first, 'suspend');
  await mustCreate(t, app, 'counter', { resources: { cpu: 600 } });
  const body = assertProblem(t, await instanceAction(app, first, 'resume'), 503, 'INSUFFICIENT_RESOURCES');
  t.match(body.detail, /cpu: asked 600 millicores, 400 of 1000 free \(short by 200\)/);
  t.equal((await app.inject({ method: 'GET', url: `/v1/instances/${first}` })).json().status, 'suspended');
  assertProblem(t, await instanceAction(app, 'ins_00000000000000000000', 'resume'), 404, 'INSTANCE_NOT_FOUND');
});

t.test('maxRestarts: a crashed instance restarts from its last checkpoint, then fails past the limit', async (t) => {
  const app = await startWithCounter(t);
  await mustDeploy(t, app, 'journal', fixture('journal.ts'));
  const id = await mustCreate(t, app, 'journal', { class: 'Crashy', maxRestarts: 1 });
  await callMethod(app, id, 'add', [5]);
  await instanceAction(app, id, 'suspend');
  await instanceAction(app, id, 'resume');
  await callMethod(app, id, 'add', [1]); // after the checkpoint: lost in the crash
  assertProblem(t, await callMethod(app, id, 'crash'), 500, 'INSTANCE_CRASHED');
  // The restart runs under the instance's mutex; resume waits its turn behind it and answers.
  const after = (await instanceAction(app, id, 'resume')).json();
  t.match(after, { status: 'running', restarts: 1 });
  t.equal((await callMethod(app, id, 'add', [0])).body, '5', 'state is the last checkpoint');
  assertProblem(t, await callMethod(app, id, 'crash'), 500, 'INSTANCE_CRASHED');
  const failed = await instanceAction(app, id, 'resume');
  assertProblem(t, failed, 409, 'INSTANCE_NOT_SUSPENDED');
  t.equal((await app.inject({ method: 'GET', url: `/v1/instances/${id}` })).json().status, 'failed');
  t.same(await allocated(app), { cpu: 0, memory: 0, custom: {} });
});
