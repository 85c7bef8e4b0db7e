// Fate-sharing: one member dies, the group goes with it, or restarts as a whole by policy.
import t from 'tap';
import { startGate } from '../helpers/gate.js';
import { assertProblem } from '../helpers/wisp.js';
import { allocated, callMethod, groupAction, mustCreateGroup, startWithCounter } from '../helpers/instances.js';

const member = (args: unknown[] = []) => ({ function: 'counter', args, resources: { cpu: 10, memory: 32 } });

t.test('a member crash while others are busy fails the whole group; calls name the group and the member', async (t) => {
  const app = await startWithCounter(t);
  const gate = await startGate(t);
  const [a, b, c] = await mustCreateGroup(t, app, { name: 'squad', instances: [member([1]), member([2]), member([3])] });
  // a and b are busy in a method when c dies.
  const busy = [callMethod(app, a!, 'addAfter', [1, gate.url]), callMethod(app, b!, 'addAfter', [1, gate.url])];
  await gate.arrived(2);
  assertProblem(t, await callMethod(app, c!, 'crash'), 500, 'INSTANCE_CRASHED');
  for (const res of await Promise.all(busy)) assertProblem(t, res, 503, 'INSTANCE_UNAVAILABLE');
  // The group is failed once its mutex has run the member's death; GET waits for nothing, so ask
  // through an operation that queues behind it.
  assertProblem(t, await groupAction(app, 'squad', 'suspend'), 409, 'GROUP_NOT_RUNNING');
  const group = (await app.inject({ method: 'GET', url: '/v1/groups/squad' })).json();
  t.equal(group.status, 'failed');
  t.match(group.failure, new RegExp(`group "squad" failed: member ${c} \\(counter Counter\\) died`));
  t.ok(group.instances.every((i: { status: string }) => i.status === 'failed'));
  const call = assertProblem(t, await callMethod(app, a!, 'get'), 503, 'INSTANCE_UNAVAILABLE');
  t.match(call.detail, /group "squad" failed: member ins_[0-9a-f]+ \(counter Counter\) died/);
  t.same(await allocated(app), { cpu: 0, memory: 0, custom: {} }, 'every reservation is back');
  assertProblem(t, await groupAction(app, 'squad', 'resume'), 409, 'GROUP_NOT_SUSPENDED');
});

t.test('a method timeout that stops a member fails the group too', async (t) => {
  const app = await startWithCounter(t);
  const [a, b] = await mustCreateGroup(t, app, { name: 'pair', instances: [member(), member()] });
  assertProblem(t, await callMethod(app, b!, 'spin'), 504, 'METHOD_TIMEOUT');
  assertProblem(t, await groupAction(app, 'pair', 'suspend'), 409, 'GROUP_NOT_RUNNING');
  assertProblem(t, await callMethod(app, a!, 'get'), 503, 'INSTANCE_UNAVAILABLE');
});

t.test('policy restart: the whole group restarts from its last checkpoint, up to maxRestarts', async (t) => {
  const app = await startWithCounter(t);
  const [a, b] = await mustCreateGroup(t, app, {
    name: 'phoenix',
    instances: [member([10]), member([20])],
    policy: { onMemberFailure: 'restart', maxRestarts: 1 },
  });
  await callMethod(app, a!, 'add', [1]);
  await groupAction(app, 'phoenix', 'suspend');
  await groupAction(app, 'phoenix', 'resume'); // the checkpoint holds a = 11, b = 20
  await callMethod(app, a!, 'add', [100]); // lost with the restart
  assertProblem(t, await callMethod(app, b!, 'crash'), 500, 'INSTANCE_CRASHED');
  // resume queues behind the restart on the group's mutex, and a running group answers at once.
  const restarted = (await groupAction(app, 'phoenix', 'resume')).json();
  t.match(restarted, { status: 'running', restarts: 1 });
  t.equal((await callMethod(app, a!, 'get')).body, '11', 'a is back at the checkpoint');
  t.equal((await callMethod(app, b!, 'get')).body, '20');
  assertProblem(t, await callMethod(app, a!, 'crash'), 500, 'INSTANCE_CRASHED');
  assertProblem(t, await groupAction(app, 'phoenix', 'resume'), 409, 'GROUP_NOT_SUSPENDED');
  t.equal((await app.inject({ method: 'GET', url: '/v1/groups/phoenix' })).json().status, 'failed', 'past maxRestarts it fails');
});
