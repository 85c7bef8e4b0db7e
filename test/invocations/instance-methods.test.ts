// POST /v1/instances/{id}/methods/{method}?async=true: a method call becomes an asynchronous
// invocation with the same record and rules (idempotency, dead letters, callbacks, cancel).
import t from 'tap';
import { callMethod, mustCreate, startWithCounter } from '../helpers/instances.js';
import { waitFinal } from '../helpers/invocations.js';
import { assertProblem } from '../helpers/wisp.js';
import type { App } from '../helpers/wisp.js';

function callAsync(app: App, id: string, method: string, args: unknown[], headers: Record<string, string> = {}) {
  return app.inject({ method: 'POST', url: `/v1/instances/${id}/methods/${method}?async=true`, headers: { 'content-type': 'application/json', ...headers }, payload: JSON.stringify(args) });
}

t.test('an asynchronous method call is queued, runs on the instance, and records its result', async (t) => {
  const app = await startWithCounter(t);
  const id = await mustCreate(t, app, 'counter', { args: [10] });
  const res = await callAsync(app, id, 'add', [5]);
  t.equal(res.statusCode, 202, res.body);
  t.equal(res.headers.location, `/v1/invocations/${res.json().id}`);
  const done = await waitFinal(app, res.json().id);
  t.equal(done.status, 'succeeded');
  t.equal(done.result, 15);
  t.equal(done.instance, id);
  t.equal(done.method, 'add');
  t.equal(done.function, 'counter');
  t.same(done.input, [5]);
  t.equal((await callMethod(app, id, 'get')).body, '15', 'the instance state changed');
});

t.test('idempotency keys apply per instance and method', async (t) => {
  const app = await startWithCounter(t);
  const id = await mustCreate(t, app, 'counter');
  const first = await callAsync(app, id, 'add', [1], { 'idempotency-key': 'once' });
  await waitFinal(app, first.json().id);
  const again = await callAsync(app, id, 'add', [1], { 'idempotency-key': 'once' });
  t.equal(again.json().id, first.json().id);
  t.equal((await callMethod(app, id, 'get')).body, '1', 'added once');
  assertProblem(t, await callAsync(app, id, 'add', [2], { 'idempotency-key': 'once' }), 422, 'IDEMPOTENCY_KEY_REUSED');
});

t.test('a method error is retried by the function config, then fails as a dead letter', async (t) => {
  const app = await startWithCounter(t);
  const id = await mustCreate(t, app, 'counter');
  const res = await callAsync(app, id, 'nope', []);
  const done = await waitFinal(app, res.json().id);
  t.equal(done.status, 'failed');
  t.equal(done.error?.code, 'METHOD_NOT_FOUND');
  t.equal(done.attempts, 1, 'a missing method is not worth retrying');
  assertProblem(t, await callAsync(app, 'ins_00000000000000000000', 'add', [1]), 404, 'INSTANCE_NOT_FOUND');
  assertProblem(t, await app.inject({ method: 'POST', url: `/v1/instances/${id}/methods/add?async=maybe`, payload: '[1]' }), 400, 'INVALID_REQUEST');
});
