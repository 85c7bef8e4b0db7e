// Method calls: ordering on one instance, parallelism across instances, and every failure.
import t from 'tap';
import { assertProblem } from '../helpers/wisp.js';
import { allocated, callMethod, mustCreate, startWithCounter } from '../helpers/instances.js';

t.test('200 concurrent add(1) calls on one counter end at 200 with 200 distinct results', async (t) => {
  const app = await startWithCounter(t);
  const id = await mustCreate(t, app, 'counter');
  const answers = await Promise.all(Array.from({ length: 200 }, () => callMethod(app, id, 'add', [1])));
  t.ok(answers.every((res) => res.statusCode === 200));
  const values = answers.map((res) => Number(res.body));
  t.equal(new Set(values).size, 200, '200 distinct values');
  t.same([...values].sort((a, b) => a - b), Array.from({ length: 200 }, (_, i) => i + 1));
  t.equal((await callMethod(app, id, 'get')).body, '200');
});

t.test('an async method finishes before the next call on the same instance starts', async (t) => {
  const app = await startWithCounter(t);
  const id = await mustCreate(t, app, 'counter');
  // addLater reads count, awaits a timer, then writes; an interleaved add would be lost. Straight
  // to the manager, which posts each call as it is made: over HTTP the two could arrive swapped.
  const calls = app.wisp.instances;
  const [later, now] = await Promise.all([calls.call(id, 'addLater', [10, 50]), calls.call(id, 'add', [1])]);
  t.equal(later, '10');
  t.equal(now, '11', 'add ran after addLater had finished');
});

t.test('calls to two instances run in parallel on their own threads', async (t) => {
  const app = await startWithCounter(t);
  const [a, b] = [await mustCreate(t, app, 'counter'), await mustCreate(t, app, 'counter')];
  // busySpan spins for the given time and returns when it started and ended, by the clock of
  // its own thread; overlapping spans show the two calls were not queued one after the other.
  const [ra, rb] = await Promise.all([callMethod(app, a, 'busySpan', [300]), callMethod(app, b, 'busySpan', [300])]);
  const [sa, ea] = ra.json();
  const [sb, eb] = rb.json();
  t.ok(sa < eb && sb < ea, `spans overlap: [${sa}, ${ea}] and [${sb}, ${eb}]`);
});

t.test('unknown, private and reserved method names are 404 METHOD_NOT_FOUND', async (t) => {
  const app = await startWithCounter(t);
  const id = await mustCreate(t, app, 'counter');
  for (const method of ['nope', '_secret', 'constructor', 'toString', 'hasOwnProperty', 'count', 'ctx']) {
    assertProblem(t, await callMethod(app, id, method), 404, 'METHOD_NOT_FOUND');
  }
  assertProblem(t, await callMethod(app, id, '%23private'), 404, 'METHOD_NOT_FOUND');
});

t.test('a method that throws is 500 METHOD_ERROR with its name, message and stack; the instance lives on', async (t) => {
  const app = await startWithCounter(t);
  const id = await mustCreate(t, app, 'counter');
  const body = assertProblem(t, await callMethod(app, id, 'fail'), 500, 'METHOD_ERROR');
  t.match(body.error, { name: 'TypeError', message: 'asked to fail' });
  t.match((body.error as { stack: string }).stack, /counter\.ts:\d+/);
  t.notMatch((body.error as { stack: string }).stack, /instance-entry|node:internal/, "Wisp's own frames are cut from the stack");
  t.equal((await callMethod(app, id, 'add', [2])).body, '2');
});

t.test('the body must be a JSON array of arguments', async (t) => {
  const app = await startWithCounter(t);
  const id = await mustCreate(t, app, 'counter');
  const notArray = await app.inject({ method: 'POST', url: `/v1/instances/${id}/methods/add`, headers: { 'content-type': 'application/json' }, payload: '{"n":1}' });
  t.match(assertProblem(t, notArray, 400, 'INVALID_REQUEST').detail, /JSON array/);
  const broken = await app.inject({ method: 'POST', url: `/v1/instances/${id}/methods/add`, headers: { 'content-type': 'application/json' }, payload: '[1' });
  assertProblem(t, broken, 400, 'INVALID_JSON');
  const empty = await app.inject({ method: 'POST', url: `/v1/instances/${id}/methods/get` });
  t.equal(empty.body, '0', 'no body means no arguments');
  assertProblem(t, await callMethod(app, 'ins_00000000000000000000', 'get'), 404, 'INSTANCE_NOT_FOUND');
  assertProblem(t, await callMethod(app, 'not-an-id', 'get'), 400, 'INVALID_REQUEST');
});

t.test('a method past its timeout is 504 METHOD_TIMEOUT; calls queued behind it fail at once with 503', async (t) => {
  const app = await startWithCounter(t);
  const id = await mustCreate(t, app, 'counter');
  // Posted to the thread now, so it is surely ahead of the HTTP calls below.
  const spinning = t.rejects(app.wisp.instances.call(id, 'spin', []), { code: 'METHOD_TIMEOUT' });
  const queued = [callMethod(app, id, 'get'), callMethod(app, id, 'add', [1])];
  await spinning;
  for (const res of await Promise.all(queued)) assertProblem(t, res, 503, 'INSTANCE_UNAVAILABLE');
  const later = assertProblem(t, await callMethod(app, id, 'get'), 503, 'INSTANCE_UNAVAILABLE');
  t.match(later.detail, /failed/);
  const record = (await app.inject({ method: 'GET', url: `/v1/instances/${id}` })).json();
  t.equal(record.status, 'failed');
  t.same(await allocated(app), { cpu: 0, memory: 0, custom: {} }, 'the reservation is back');
});

t.test('a crash is 500 INSTANCE_CRASHED; the instance is failed and its reservation released', async (t) => {
  const app = await startWithCounter(t);
  const id = await mustCreate(t, app, 'counter');
  const other = await mustCreate(t, app, 'counter');
  const crashing = t.rejects(app.wisp.instances.call(id, 'crash', []), { code: 'INSTANCE_CRASHED' });
  const queued = callMethod(app, id, 'get');
  await crashing;
  assertProblem(t, await queued, 503, 'INSTANCE_UNAVAILABLE');
  t.equal((await app.inject({ method: 'GET', url: `/v1/instances/${id}` })).json().status, 'failed');
  t.same(await allocated(app), { cpu: 500, memory: 500, custom: {} }, 'only the other instance holds resources');
  t.equal((await callMethod(app, other, 'add', [3])).body, '3', 'other instances are untouched');
});

t.test('out of memory in an instance is a crash that names it', async (t) => {
  const app = await startWithCounter(t);
  // The second instance of a size runs on a spare thread booted in advance: its cap must hold too.
  const first = await mustCreate(t, app, 'counter', { resources: { memory: 32 } });
  const second = await mustCreate(t, app, 'counter', { resources: { memory: 32 } });
  for (const id of [first, second]) {
    const body = assertProblem(t, await callMethod(app, id, 'hog'), 500, 'INSTANCE_CRASHED');
    t.match(body.detail, /out of memory/);
  }
});
