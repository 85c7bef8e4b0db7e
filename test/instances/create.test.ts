// Creating instances: the record, class choice, constructor failures, named get-or-create.
import t from 'tap';
import { assertProblem, mustDeploy, startWisp } from '../helpers/wisp.js';
import { allocated, callMethod, createInstance, instanceList, roomy, startWithCounter } from '../helpers/instances.js';

t.test('create runs the constructor with args on its own thread and answers 201 with the record', async (t) => {
  const app = await startWithCounter(t);
  const res = await createInstance(app, 'counter', { args: [5] });
  t.equal(res.statusCode, 201, res.body);
  const record = res.json();
  t.match(record, { function: 'counter', version: 1, class: 'Counter', name: null, group: null, status: 'running', restarts: 0, maxRestarts: 0 });
  t.same(record.resources, { cpu: 500, memory: 500, custom: {} }, 'the default reservation');
  t.match(record.id, /^ins_[0-9a-f]{20}$/);
  t.equal(res.headers.location, `/v1/instances/${record.id}`);
  t.notOk('args' in record, 'constructor args are not echoed');
  t.equal((await callMethod(app, record.id, 'get')).body, '5');
  t.same(await allocated(app), { cpu: 500, memory: 500, custom: {} });
});

t.test('an empty body creates the only class with no args', async (t) => {
  const app = await startWithCounter(t);
  const res = await createInstance(app, 'counter');
  t.equal(res.statusCode, 201, res.body);
  t.equal((await callMethod(app, res.json().id, 'get')).body, '0');
});

t.test('a constructor that throws is 422 INSTANCE_INIT_FAILED and leaves nothing behind', async (t) => {
  const app = await startWithCounter(t);
  const body = assertProblem(t, await createInstance(app, 'counter', { args: [-1] }), 422, 'INSTANCE_INIT_FAILED');
  t.match(body.detail, /RangeError: start must be at least 0, got -1/);
  t.match(body.error, { name: 'RangeError', message: 'start must be at least 0, got -1' });
  t.match((body.error as { stack: string }).stack, /counter\.ts:\d+/, 'the stack points into the uploaded source');
  t.same(await instanceList(app), [], 'no record');
  t.same(await allocated(app), { cpu: 0, memory: 0, custom: {} }, 'no reservation');
});

t.test('class choice: unknown is 404 CLASS_NOT_FOUND, ambiguous is 400, none exported is 404', async (t) => {
  const app = await startWisp(t, roomy);
  await mustDeploy(t, app, 'two', 'export class A { x = 1 }\nexport class B { y = 2 }');
  await mustDeploy(t, app, 'plain', 'export default () => 1;');
  const unknown = assertProblem(t, await createInstance(app, 'two', { class: 'C' }), 404, 'CLASS_NOT_FOUND');
  t.match(unknown.detail, /no class "C"; it exports A, B/);
  assertProblem(t, await createInstance(app, 'two'), 400, 'INVALID_REQUEST');
  t.equal((await createInstance(app, 'two', { class: 'B' })).statusCode, 201);
  assertProblem(t, await createInstance(app, 'plain'), 404, 'CLASS_NOT_FOUND');
  assertProblem(t, await createInstance(app, 'missing'), 404, 'FUNCTION_NOT_FOUND');
});

t.test('bad create bodies are 400 with what to fix', async (t) => {
  const app = await startWithCounter(t);
  for (const body of [{ args: 5 }, { resources: { cpu: -1 } }, { resources: { memory: 8 } }, { name: 'has space' }, { colour: 'red' }, [1]]) {
    assertProblem(t, await createInstance(app, 'counter', body), 400, 'INVALID_REQUEST');
  }
  t.same(await instanceList(app), [], 'none of them created anything');
  const res = await app.inject({ method: 'POST', url: '/v1/functions/counter/instances', headers: { 'content-type': 'application/json' }, payload: '{"args": [' });
  assertProblem(t, res, 400, 'INVALID_JSON');
  assertProblem(t, await createInstance(app, 'Bad_Name'), 400, 'INVALID_NAME');
});

t.test('50 simultaneous creates with one name yield exactly one instance', async (t) => {
  const app = await startWithCounter(t);
  const answers = await Promise.all(Array.from({ length: 50 }, () => createInstance(app, 'counter', { name: 'shared', args: [1] })));
  const statuses = answers.map((res) => res.statusCode).sort();
  t.equal(statuses.filter((s) => s === 201).length, 1, 'one 201');
  t.equal(statuses.filter((s) => s === 200).length, 49, 'the rest 200');
  t.equal(new Set(answers.map((res) => res.json().id)).size, 1, 'all the same id');
  t.equal((await instanceList(app)).length, 1);
  t.same(await allocated(app), { cpu: 500, memory: 500, custom: {} }, 'one reservation');
});

t.test('a name is per function and stays taken until the instance is deleted', async (t) => {
  const app = await startWithCounter(t);
  await mustDeploy(t, app, 'other', 'export class Counter { n = 0 }');
  const first = await createInstance(app, 'counter', { name: 'x' });
  const elsewhere = await createInstance(app, 'other', { name: 'x' });
  t.equal(elsewhere.statusCode, 201, 'same name under another function is another instance');
  t.not(elsewhere.json().id, first.json().id);
  await app.inject({ method: 'DELETE', url: `/v1/instances/${first.json().id}` });
  const again = await createInstance(app, 'counter', { name: 'x' });
  t.equal(again.statusCode, 201);
  t.not(again.json().id, first.json().id);
});
