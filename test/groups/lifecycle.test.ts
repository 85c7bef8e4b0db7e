// Deleting, suspending and resuming groups; members cannot be acted on alone.
import t from 'tap';
import { join } from 'node:path';
import { assertProblem, fixture, mustDeploy } from '../helpers/wisp.js';
import { allocated, callMethod, groupAction, instanceAction, instanceList, mustCreate, mustCreateGroup, nodeState, roomy, startWithCounter } from '../helpers/instances.js';
import { tempDir } from '../helpers/temp-dir.js';

const member = (args: unknown[] = []) => ({ function: 'counter', args, resources: { cpu: 10, memory: 32 } });

t.test('DELETE terminates every member, a member stuck in an endless loop included, and answers 204', async (t) => {
  const app = await startWithCounter(t);
  const [a, b] = await mustCreateGroup(t, app, { name: 'doomed', instances: [member(), member()] });
  // Straight to the manager: the call is in the member's mailbox before the DELETE is sent
  // (over HTTP the DELETE could arrive first).
  const stuck = t.rejects(app.wisp.instances.call(a!, 'spin', []), { code: 'INSTANCE_UNAVAILABLE' }, 'the spinning call ends when its thread is terminated');
  const res = await app.inject({ method: 'DELETE', url: '/v1/groups/doomed' });
  t.equal(res.statusCode, 204);
  await stuck;
  assertProblem(t, await callMethod(app, b!, 'get'), 404, 'INSTANCE_NOT_FOUND');
  assertProblem(t, await app.inject({ method: 'GET', url: '/v1/groups/doomed' }), 404, 'GROUP_NOT_FOUND');
  assertProblem(t, await app.inject({ method: 'DELETE', url: '/v1/groups/doomed' }), 404, 'GROUP_NOT_FOUND');
  t.same(await nodeState(app), { instances: [], allocated: { cpu: 0, memory: 0, custom: {} } });
});

t.test('members cannot be deleted, suspended or resumed alone; other instances are unaffected', async (t) => {
  const app = await startWithCounter(t);
  const [a] = await mustCreateGroup(t, app, { name: 'g', instances: [member()] });
  const loose = await mustCreate(t, app, 'counter', { resources: { cpu: 10, memory: 32 } });
  assertProblem(t, await app.inject({ method: 'DELETE', url: `/v1/instances/${a}` }), 409, 'INSTANCE_IN_GROUP');
  assertProblem(t, await instanceAction(app, a!, 'suspend'), 409, 'INSTANCE_IN_GROUP');
  assertProblem(t, await instanceAction(app, a!, 'resume'), 409, 'INSTANCE_IN_GROUP');
  t.equal((await callMethod(app, a!, 'add', [2])).body, '2', 'members take calls like any instance');
  t.equal((await instanceAction(app, loose, 'suspend')).statusCode, 200);
  t.equal((await app.inject({ method: 'DELETE', url: `/v1/instances/${loose}` })).statusCode, 204);
});

t.test('suspend checkpoints every member as one generation and frees everything; resume restores them', async (t) => {
  const app = await startWithCounter(t);
  const [a, b] = await mustCreateGroup(t, app, { name: 'g', instances: [member([1]), member([2])] });
  await callMethod(app, a!, 'add', [10]);
  const suspended = (await groupAction(app, 'g', 'suspend')).json();
  t.match(suspended, { status: 'suspended', generation: 1 });
  t.ok(suspended.instances.every((i: { status: string; checkpointedAt: string }) => i.status === 'suspended' && i.checkpointedAt));
  t.same(await allocated(app), { cpu: 0, memory: 0, custom: {} });
  assertProblem(t, await callMethod(app, a!, 'get'), 409, 'INSTANCE_SUSPENDED');
  const resumed = (await groupAction(app, 'g', 'resume')).json();
  t.same(resumed.instances.map((i: { id: string }) => i.id), [a, b], 'same handle ids');
  t.equal((await callMethod(app, a!, 'get')).body, '11');
  t.equal((await callMethod(app, b!, 'get')).body, '2');
});

t.test('a failing checkpoint leaves the group running exactly as before, never half suspended', async (t) => {
  const app = await startWithCounter(t);
  await mustDeploy(t, app, 'journal', fixture('journal.ts'));
  const [a, u] = await mustCreateGroup(t, app, {
    name: 'mixed',
    instances: [member([5]), { function: 'journal', class: 'Unclonable', resources: { cpu: 10, memory: 32 } }],
  });
  const before = await nodeState(app);
  assertProblem(t, await groupAction(app, 'mixed', 'suspend'), 422, 'CHECKPOINT_FAILED');
  t.same(await nodeState(app), before, 'records and allocation unchanged');
  t.equal((await app.inject({ method: 'GET', url: '/v1/groups/mixed' })).json().generation, 0);
  t.equal((await callMethod(app, a!, 'get')).body, '5');
  t.equal((await callMethod(app, u!, 'ping')).body, '"pong"');
});

t.test('resume that does not fit leaves the group suspended and holds nothing', async (t) => {
  const app = await startWithCounter(t, { node: { cpu: 1000, memory: 10_000, custom: {} } });
  await mustCreateGroup(t, app, { name: 'g', instances: [0, 1].map(() => ({ function: 'counter', resources: { cpu: 400, memory: 32 } })) });
  await groupAction(app, 'g', 'suspend');
  const squatter = await mustCreate(t, app, 'counter', { resources: { cpu: 300, memory: 32 } });
  const body = assertProblem(t, await groupAction(app, 'g', 'resume'), 503, 'INSUFFICIENT_RESOURCES');
  t.match(body.detail, /short by 100/);
  t.equal((await app.inject({ method: 'GET', url: '/v1/groups/g' })).json().status, 'suspended');
  t.same(await allocated(app), { cpu: 300, memory: 32, custom: {} });
  await app.inject({ method: 'DELETE', url: `/v1/instances/${squatter}` });
  t.equal((await groupAction(app, 'g', 'resume')).json().status, 'running', 'it resumes once there is room');
});

t.test('suspend, restart Wisp, resume; a running group comes back running after a graceful stop', async (t) => {
  const dataDir = join(tempDir(), 'data');
  const first = await startWithCounter(t, roomy, dataDir);
  const [a, b] = await mustCreateGroup(t, first, { name: 'sleeper', instances: [member([1]), member([2])] });
  const [c] = await mustCreateGroup(t, first, { name: 'awake', instances: [member([7])] });
  await callMethod(first, a!, 'add', [4]);
  await callMethod(first, c!, 'add', [1]);
  await groupAction(first, 'sleeper', 'suspend');
  await first.close();

  const second = await startWithCounter(t, roomy, dataDir);
  t.equal((await second.inject({ method: 'GET', url: '/v1/groups/sleeper' })).json().status, 'suspended');
  t.equal((await callMethod(second, c!, 'get')).body, '8', 'the running group came back with its state');
  const resumed = (await groupAction(second, 'sleeper', 'resume')).json();
  t.same(resumed.instances.map((i: { id: string }) => i.id), [a, b]);
  t.equal((await callMethod(second, a!, 'get')).body, '5');
  t.equal((await callMethod(second, b!, 'get')).body, '2');
  t.equal((await instanceList(second)).length, 3);
});
