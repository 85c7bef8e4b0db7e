// Creating groups: all members or none, gang admission, names.
import t from 'tap';
import { assertProblem } from '../helpers/wisp.js';
import { allocated, callMethod, createGroup, instanceList, mustCreate, mustCreateGroup, nodeState, startWithCounter } from '../helpers/instances.js';

const member = (args: unknown[] = [], extra: Record<string, unknown> = {}) => ({ function: 'counter', args, resources: { cpu: 10, memory: 32 }, ...extra });

t.test('a group is created with every member running, in order, each tagged with the group', async (t) => {
  const app = await startWithCounter(t);
  const res = await createGroup(app, { name: 'room', instances: [member([1]), member([2]), member([3])] });
  t.equal(res.statusCode, 201, res.body);
  t.equal(res.headers.location, '/v1/groups/room');
  const group = res.json();
  t.match(group, { name: 'room', status: 'running', policy: { onMemberFailure: 'fail', maxRestarts: 0 }, restarts: 0, failure: null });
  t.same(group.instances.map((i: { group: string; status: string }) => [i.group, i.status]), [['room', 'running'], ['room', 'running'], ['room', 'running']]);
  const values = await Promise.all(group.instances.map((i: { id: string }) => callMethod(app, i.id, 'get')));
  t.same(values.map((v) => v.body), ['1', '2', '3'], 'each constructor got its own args');
  t.same(await allocated(app), { cpu: 30, memory: 96, custom: {} });
  t.same((await instanceList(app, '?group=room')).length, 3);
  t.same((await app.inject({ method: 'GET', url: '/v1/groups' })).json().groups.map((g: { name: string }) => g.name), ['room']);
});

t.test('a member failing in the middle of a group of 20 leaves nothing behind', async (t) => {
  const app = await startWithCounter(t);
  const single = await mustCreate(t, app, 'counter', { resources: { cpu: 10, memory: 32 } });
  const before = await nodeState(app);
  const members = Array.from({ length: 20 }, (_, i) => member([i === 10 ? -1 : i]));
  const body = assertProblem(t, await createGroup(app, { name: 'twenty', instances: members }), 409, 'GROUP_CREATE_FAILED');
  t.match(body.detail, /member 10 \(counter\) failed: INSTANCE_INIT_FAILED: .*start must be at least 0/);
  const outcomes = body.members as { index: number; result: string; code?: string }[];
  t.equal(outcomes.length, 20);
  t.match(outcomes[10], { index: 10, result: 'failed', code: 'INSTANCE_INIT_FAILED' });
  t.ok(outcomes.filter((o) => o.index !== 10).every((o) => o.result === 'stopped'), 'the others started and were undone');
  t.same(await nodeState(app), before, 'instance list and allocation exactly as before');
  assertProblem(t, await app.inject({ method: 'GET', url: '/v1/groups/twenty' }), 404, 'GROUP_NOT_FOUND');
  t.equal((await callMethod(app, single, 'add', [1])).body, '1', 'instances outside the group are untouched');
});

t.test('unknown functions and classes fail the group before anything starts, naming each member', async (t) => {
  const app = await startWithCounter(t);
  const before = await nodeState(app);
  const body = assertProblem(
    t,
    await createGroup(app, { name: 'bad', instances: [member(), { function: 'nope' }, member([], { class: 'Missing' })] }),
    409,
    'GROUP_CREATE_FAILED',
  );
  t.match(body.members, [{ index: 0, result: 'ready' }, { index: 1, result: 'failed', code: 'FUNCTION_NOT_FOUND' }, { index: 2, result: 'failed', code: 'CLASS_NOT_FOUND' }]);
  t.match(body.detail, /and 1 more/);
  t.same(await nodeState(app), before);
});

t.test('a group that does not fit as a whole reserves nothing (gang admission)', async (t) => {
  const app = await startWithCounter(t, { node: { cpu: 1000, memory: 10_000, custom: {} } });
  const before = await nodeState(app);
  // Each member alone fits; the three together do not.
  const members = [0, 1, 2].map(() => ({ function: 'counter', resources: { cpu: 400, memory: 32 } }));
  const body = assertProblem(t, await createGroup(app, { name: 'big', instances: members }), 409, 'GROUP_CREATE_FAILED');
  // Alone, the sum of the group is short; on a cluster's store, the member that fitted nowhere after the others.
  t.match(body.detail, /INSUFFICIENT_RESOURCES: .*cpu: asked (1200 millicores, 1000 of 1000 free|400 millicores, 200 of 1000 free) \(short by 200\)/);
  t.same(await nodeState(app), before);
});

t.test('a name in use is 409 GROUP_EXISTS; bad bodies are 400', async (t) => {
  const app = await startWithCounter(t);
  await mustCreateGroup(t, app, { name: 'taken', instances: [member()] });
  assertProblem(t, await createGroup(app, { name: 'taken', instances: [member()] }), 409, 'GROUP_EXISTS');
  for (const body of [{ name: 'x', instances: [] }, { name: 'x' }, { name: 'bad name', instances: [member()] }, { name: 'x', instances: [{ class: 'Counter' }] }, { name: 'x', instances: [member()], policy: { onMemberFailure: 'retry' } }, { name: 'x', instances: [member()], policy: { placement: 'scatter' } }]) {
    assertProblem(t, await createGroup(app, body), 400, 'INVALID_REQUEST');
  }
  for (const url of ['/v1/groups/bad%20name', '/v1/groups/bad%20name/suspend', '/v1/groups/..%2Fetc']) {
    assertProblem(t, await app.inject({ method: url.endsWith('suspend') ? 'POST' : 'GET', url }), 400, 'INVALID_REQUEST');
  }
  assertProblem(t, await app.inject({ method: 'POST', url: '/v1/groups/nope/resume' }), 404, 'GROUP_NOT_FOUND');
  const dup = assertProblem(t, await createGroup(app, { name: 'dup', instances: [member([], { name: 'a' }), member([], { name: 'a' })] }), 409, 'GROUP_CREATE_FAILED');
  t.match(dup.detail, /two members of the group are named "a"/);
});
