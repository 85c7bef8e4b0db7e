// Idempotency-Key: the same key and body return the invocation made the first time (also after a
// restart, and under concurrent submissions); the same key with another body is 422.
import t from 'tap';
import { join } from 'node:path';
import { mustSubmit, submit, waitFinal } from '../helpers/invocations.js';
import { assertProblem, invoke, mustDeploy, startWisp } from '../helpers/wisp.js';
import { tempDir } from '../helpers/temp-dir.js';

const counter = 'let runs = 0;\nexport default (input: unknown) => ({ runs: ++runs, input });';

t.test('a repeated key with the same body returns the first invocation and runs nothing new', async (t) => {
  const app = await startWisp(t);
  await mustDeploy(t, app, 'count', counter);
  const key = { 'idempotency-key': 'order-42' };
  const first = await submit(app, 'count', { order: 42 }, key);
  t.equal(first.statusCode, 202);
  t.notOk(first.headers['idempotent-replayed']);
  const id = first.json().id;
  await waitFinal(app, id);
  const again = await submit(app, 'count', { order: 42 }, key);
  t.equal(again.statusCode, 202);
  t.equal(again.json().id, id);
  t.equal(again.json().status, 'succeeded', 'the answer shows the first invocation as it is now');
  t.equal(again.headers['idempotent-replayed'], 'true');
  t.equal(again.headers.location, `/v1/invocations/${id}`);
  t.equal((await invoke(app, 'count', 0)).json().runs, 2, 'the function ran once for the key');
  const reused = await submit(app, 'count', { order: 43 }, key);
  const problem = assertProblem(t, reused, 422, 'IDEMPOTENCY_KEY_REUSED');
  t.equal(problem.invocationId, id);
});

t.test('keys are scoped per function', async (t) => {
  const app = await startWisp(t);
  await mustDeploy(t, app, 'a', counter);
  await mustDeploy(t, app, 'b', counter);
  const onA = await mustSubmit(t, app, 'a', 1, { 'idempotency-key': 'k' });
  const onB = await mustSubmit(t, app, 'b', 1, { 'idempotency-key': 'k' });
  t.not(onA, onB);
});

t.test('fifty concurrent submissions with one key make one invocation', async (t) => {
  const app = await startWisp(t);
  await mustDeploy(t, app, 'count', counter);
  const answers = await Promise.all(Array.from({ length: 50 }, () => submit(app, 'count', 'same', { 'idempotency-key': 'burst' })));
  const ids = new Set(answers.map((res) => res.json().id));
  t.equal(ids.size, 1);
  t.equal(answers.filter((res) => res.headers['idempotent-replayed'] === 'true').length, 49);
  t.equal((await app.inject('/v1/invocations?function=count')).json().invocations.length, 1);
});

t.test('the key is remembered across a restart', async (t) => {
  const dir = join(tempDir(), 'data');
  const before = await startWisp(t, {}, dir);
  await mustDeploy(t, before, 'count', counter);
  const id = await mustSubmit(t, before, 'count', 7, { 'idempotency-key': 'kept' });
  await waitFinal(before, id);
  await before.close();
  const after = await startWisp(t, {}, dir);
  const again = await submit(after, 'count', 7, { 'idempotency-key': 'kept' });
  t.equal(again.json().id, id);
  t.equal(again.headers['idempotent-replayed'], 'true');
});
