// GET /v1/groups/{name}?wait=SECONDS (yr.Group.wait()): answers once the group is running or has
// failed; a suspended group is waited on until resumed; an unknown one is 404 at once.
import t from 'tap';
import { assertProblem } from '../helpers/wisp.js';
import { createGroup, startWithCounter } from '../helpers/instances.js';

const PAIR = { name: 'pair', instances: [{ function: 'counter', resources: { cpu: 10, memory: 64 } }, { function: 'counter', resources: { cpu: 10, memory: 64 } }] };

t.test('a suspended group is waited on until it is resumed', async (t) => {
  const app = await startWithCounter(t);
  t.equal((await createGroup(app, PAIR)).statusCode, 201);
  t.equal((await app.inject({ method: 'POST', url: '/v1/groups/pair/suspend' })).json().status, 'suspended');
  let answered = false;
  const waiting = app.inject({ method: 'GET', url: '/v1/groups/pair?wait=20' }).then((res) => {
    answered = true;
    return res;
  });
  // Another request answers meanwhile: the wait is still open, the group still suspended.
  t.equal((await app.inject({ method: 'GET', url: '/v1/groups/pair' })).json().status, 'suspended');
  t.notOk(answered, 'no answer while it is suspended');
  t.equal((await app.inject({ method: 'POST', url: '/v1/groups/pair/resume' })).json().status, 'running');
  const res = await waiting;
  t.equal(res.statusCode, 200);
  t.equal(res.json().status, 'running');
  t.equal((await app.inject({ method: 'GET', url: '/v1/groups/pair?wait=20' })).json().status, 'running', 'a running group answers at once');
});

t.test('an unknown group is 404 at once; a wait past the maximum is 400', async (t) => {
  const app = await startWithCounter(t);
  assertProblem(t, await app.inject({ method: 'GET', url: '/v1/groups/nobody?wait=20' }), 404, 'GROUP_NOT_FOUND');
  assertProblem(t, await app.inject({ method: 'GET', url: '/v1/groups/pair?wait=100000' }), 400, 'INVALID_REQUEST');
});

t.test('a suspended group still suspended when the wait runs out is answered as it is', async (t) => {
  const app = await startWithCounter(t);
  await createGroup(app, PAIR);
  await app.inject({ method: 'POST', url: '/v1/groups/pair/suspend' });
  const res = await app.inject({ method: 'GET', url: '/v1/groups/pair?wait=0.3' });
  t.equal(res.statusCode, 200);
  t.equal(res.json().status, 'suspended');
});
