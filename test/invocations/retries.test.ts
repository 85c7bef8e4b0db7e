// Retries: failed attempts run again after an exponential, jittered backoff (checked on a manual
// clock), ctx.attempt counts them, errors marked not retriable fail at once, invocations that wait
// past maxAgeMs fail without running, and failed ones can be read as a dead-letter list and re-run.
import t from 'tap';
import { backoffDelay, shouldRetry } from '../../dist/invocations/retry-policy.js';
import { startGate } from '../helpers/gate.js';
import { getInvocation, mustSubmit, waitFinal, waitStatus, waitUntil } from '../helpers/invocations.js';
import { ManualClock } from '../helpers/manual-clock.js';
import { assertProblem, mustDeploy, startWisp } from '../helpers/wisp.js';
import { tempDir } from '../helpers/temp-dir.js';

t.test('backoff doubles from the base, is capped, and jitters within the upper half', async (t) => {
  const backoff = { baseMs: 1000, maxMs: 10_000 };
  t.equal(backoffDelay(1, backoff, 0), 500);
  t.equal(backoffDelay(1, backoff, 0.999_999), 1000);
  t.equal(backoffDelay(2, backoff, 0.5), 1500);
  t.equal(backoffDelay(3, backoff, 0), 2000);
  t.equal(backoffDelay(10, backoff, 1 - Number.EPSILON), 10_000, 'capped at maxMs');
  t.equal(backoffDelay(1, { baseMs: 0, maxMs: 10 }, 0.7), 0, 'a zero base retries at once');
  t.ok(shouldRetry({ code: 'FUNCTION_ERROR', retriable: true, attempts: 1, maxAttempts: 3 }));
  t.notOk(shouldRetry({ code: 'FUNCTION_ERROR', retriable: true, attempts: 3, maxAttempts: 3 }), 'out of attempts');
  t.notOk(shouldRetry({ code: 'FUNCTION_ERROR', retriable: false, attempts: 1, maxAttempts: 3 }), 'marked not retriable');
  t.notOk(shouldRetry({ code: 'RESULT_TOO_LARGE', retriable: true, attempts: 1, maxAttempts: 3 }), 'fails the same way again');
  t.ok(shouldRetry({ code: 'FUNCTION_TIMEOUT', retriable: true, attempts: 1, maxAttempts: 2 }));
});

const flaky = `export const config = { retries: 3, retryBackoffMs: 1000 };
export default (input: { failUntil: number }, ctx: { attempt: number }) => {
  if (ctx.attempt < input.failUntil) throw new Error("attempt " + ctx.attempt + " failed");
  return { attempt: ctx.attempt };
};`;

t.test('a failing invocation is retried after its backoff, and ctx.attempt counts', async (t) => {
  const clock = new ManualClock();
  const app = await startWisp(t, {}, tempDir(), { clock });
  await mustDeploy(t, app, 'flaky', flaky);
  const id = await mustSubmit(t, app, 'flaky', { failUntil: 3 });
  const first = await waitStatus(app, id, 'retrying');
  t.equal(first.attempts, 1);
  t.equal(first.error?.code, 'FUNCTION_ERROR', 'the last error is shown while retrying');
  t.match(first.error?.error?.message, 'attempt 1 failed');
  // randomValue 0.5: the first retry waits 3/4 of the base.
  t.equal(Date.parse(first.nextAttemptAt!), clock.now() + 750);
  clock.advance(749);
  t.equal((await getInvocation(app, id)).status, 'retrying', 'nothing runs before the backoff is over');
  clock.advance(1);
  const second = await waitUntil(app, id, (i) => i.attempts === 2 && i.status === 'retrying');
  t.equal(second.attempts, 2);
  t.equal(Date.parse(second.nextAttemptAt!), clock.now() + 1500, 'the second retry waits twice as long');
  clock.advance(1500);
  const done = await waitFinal(app, id);
  t.equal(done.status, 'succeeded');
  t.same(done.result, { attempt: 3 });
  t.equal(done.attempts, 3);
  t.equal(done.error, null);
});

t.test('retries run out: the invocation fails with its last error and stays as a dead letter', async (t) => {
  const app = await startWisp(t);
  await mustDeploy(t, app, 'broken', 'export const config = { retries: 2, retryBackoffMs: 0 };\nexport default () => { throw new TypeError("always"); };');
  const id = await mustSubmit(t, app, 'broken', { keep: 'me' });
  const done = await waitFinal(app, id);
  t.equal(done.status, 'failed');
  t.equal(done.attempts, 3);
  t.equal(done.maxAttempts, 3);
  t.equal(done.error?.code, 'FUNCTION_ERROR');
  t.equal(done.error?.error?.name, 'TypeError');
  t.same(done.input, { keep: 'me' }, 'the input is kept');
  const dead = (await app.inject('/v1/invocations?status=failed')).json().invocations;
  t.same(dead.map((i: { id: string }) => i.id), [id]);
});

t.test('an error marked not retriable fails at once', async (t) => {
  const app = await startWisp(t);
  await mustDeploy(
    t,
    app,
    'picky',
    'export const config = { retries: 5, retryBackoffMs: 0 };\nexport default () => { throw Object.assign(new Error("bad input"), { retriable: false }); };',
  );
  const done = await waitFinal(app, await mustSubmit(t, app, 'picky'));
  t.equal(done.status, 'failed');
  t.equal(done.attempts, 1);
  t.match(done.error?.message, 'bad input');
});

t.test('a timeout is retried like an error', async (t) => {
  const app = await startWisp(t);
  await mustDeploy(
    t,
    app,
    'slowfirst',
    'export const config = { retries: 1, retryBackoffMs: 0, timeoutMs: 300 };\nexport default (_: unknown, ctx: { attempt: number }) => { if (ctx.attempt === 1) for (;;) {} return "second time"; };',
  );
  const done = await waitFinal(app, await mustSubmit(t, app, 'slowfirst'));
  t.equal(done.status, 'succeeded');
  t.equal(done.result, 'second time');
  t.equal(done.attempts, 2);
});

t.test('an invocation still queued past maxAgeMs fails with EVENT_AGE_EXCEEDED without running', async (t) => {
  const clock = new ManualClock();
  // One at a time: an aged invocation that kept its room would leave none for the next.
  const app = await startWisp(t, { invocations: { maxRunning: 1 } }, tempDir(), { clock });
  const gate = await startGate(t);
  await mustDeploy(
    t,
    app,
    'aged',
    `export const config = { concurrency: 1, maxAgeMs: 60000 };
let runs = 0;
export default async (input: string) => { runs++; if (input === "hold") await fetch(${JSON.stringify(gate.url)}); return runs; };`,
  );
  const holder = await mustSubmit(t, app, 'aged', 'hold');
  await gate.arrived(1);
  const waiting = await mustSubmit(t, app, 'aged', 'late');
  clock.advance(60_001);
  gate.open();
  t.equal((await waitFinal(app, holder)).status, 'succeeded');
  const late = await waitFinal(app, waiting);
  t.equal(late.status, 'failed');
  t.equal(late.error?.code, 'EVENT_AGE_EXCEEDED');
  t.equal(late.attempts, 0, 'it never ran');
  const after = await mustSubmit(t, app, 'aged', 'next');
  t.equal((await waitFinal(app, after)).status, 'succeeded', 'the next invocation still runs');
});

t.test('POST /retry runs a failed invocation again with the same id and fresh retries', async (t) => {
  const app = await startWisp(t);
  await mustDeploy(t, app, 'toggle', 'export const config = { retries: 0 };\nlet calls = 0;\nexport default () => { calls++; if (calls === 1) throw new Error("first"); return calls; };');
  const id = await mustSubmit(t, app, 'toggle');
  t.equal((await waitFinal(app, id)).status, 'failed');
  const res = await app.inject({ method: 'POST', url: `/v1/invocations/${id}/retry` });
  t.equal(res.statusCode, 202, res.body);
  t.equal(res.json().id, id);
  const done = await waitFinal(app, id);
  t.equal(done.status, 'succeeded');
  t.equal(done.attempts, 2);
  t.equal(done.result, 2);
  t.ok(Date.parse(String(done.startedAt)) >= Date.parse(String(done.createdAt)), 'the run again started after it was queued again, not at the first attempt');
  assertProblem(t, await app.inject({ method: 'POST', url: `/v1/invocations/${id}/retry` }), 409, 'INVOCATION_NOT_FINISHED');
  assertProblem(t, await app.inject({ method: 'POST', url: '/v1/invocations/00000000-0000-4000-8000-000000000000/retry' }), 404, 'INVOCATION_NOT_FOUND');
});
