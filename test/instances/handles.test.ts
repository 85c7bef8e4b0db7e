// ctx.instance(id).call(): from stateless functions and from other instances; cycles fail fast.
import t from 'tap';
import { assertProblem, fixture, invoke, mustDeploy } from '../helpers/wisp.js';
import { callMethod, mustCreate, startWithCounter } from '../helpers/instances.js';

t.test('a stateless function calls an instance by handle', async (t) => {
  const app = await startWithCounter(t);
  await mustDeploy(t, app, 'peers', fixture('peers.ts'));
  const counter = await mustCreate(t, app, 'counter');
  t.same((await invoke(app, 'peers', { id: counter, method: 'add', args: [3] })).json(), { value: 3 });
  t.same((await invoke(app, 'peers', { id: counter, method: 'add', args: [4] })).json(), { value: 7 });
  t.equal((await callMethod(app, counter, 'get')).body, '7', 'the calls changed the instance');
  const missing = (await invoke(app, 'peers', { id: 'ins_00000000000000000000', method: 'get' })).json();
  t.equal(missing.code, 'INSTANCE_NOT_FOUND', 'errors keep their code across the threads');
  t.equal((await invoke(app, 'peers', { id: counter, method: 'fail' })).json().code, 'METHOD_ERROR');
});

t.test('an instance calls another instance', async (t) => {
  const app = await startWithCounter(t);
  await mustDeploy(t, app, 'peers', fixture('peers.ts'));
  const a = await mustCreate(t, app, 'peers', { args: ['a'] });
  const b = await mustCreate(t, app, 'peers', { args: ['b'] });
  const counter = await mustCreate(t, app, 'counter');
  t.equal((await callMethod(app, a, 'callPeer', [b, 'hello'])).json(), 'hello from b');
  t.equal((await callMethod(app, a, 'callPeer', [counter, 'add', 2])).json(), 2);
});

t.test('a call cycle fails at once with CALL_CYCLE instead of hanging', async (t) => {
  const app = await startWithCounter(t);
  await mustDeploy(t, app, 'peers', fixture('peers.ts'));
  const a = await mustCreate(t, app, 'peers', { args: ['a'] });
  const b = await mustCreate(t, app, 'peers', { args: ['b'] });
  // a.ping → b.pong → a.hello: a is busy waiting on b, so the last call can never start.
  const body = assertProblem(t, await callMethod(app, a, 'ping', [b]), 500, 'METHOD_ERROR');
  t.match(body.detail, new RegExp(`instance ${a} is already waiting in this call chain \\(${a} → ${b} → ${a}\\)`));
  t.same((await callMethod(app, a, 'catchCode', [a, 'hello'])).json(), { code: 'CALL_CYCLE' }, 'calling itself is a cycle too');
  t.equal((await callMethod(app, a, 'hello')).json(), 'hello from a', 'both instances still serve calls');
  t.equal((await callMethod(app, b, 'hello')).json(), 'hello from b');
});
