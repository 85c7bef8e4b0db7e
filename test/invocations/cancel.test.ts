// DELETE /v1/invocations/{id}: a queued invocation is cancelled at once, a running one has its
// ctx.signal aborted (and its thread stopped if it ignores that), a final one is 409.
import t from 'tap';
import { startGate } from '../helpers/gate.js';
import { getInvocation, mustSubmit, waitFinal, waitStatus } from '../helpers/invocations.js';
import { assertProblem, invoke, mustDeploy, startWisp } from '../helpers/wisp.js';

t.test('a queued invocation is cancelled at once and never runs', async (t) => {
  const app = await startWisp(t);
  const gate = await startGate(t);
  await mustDeploy(t, app, 'one', `export const config = { concurrency: 1 };\nlet runs = 0;\nexport default async (hold: boolean) => { runs++; if (hold) await fetch(${JSON.stringify(gate.url)}); return runs; };`);
  const holder = await mustSubmit(t, app, 'one', true);
  await gate.arrived(1);
  const queued = await mustSubmit(t, app, 'one', false);
  const res = await app.inject({ method: 'DELETE', url: `/v1/invocations/${queued}` });
  t.equal(res.statusCode, 204);
  const cancelled = await getInvocation(app, queued);
  t.equal(cancelled.status, 'cancelled');
  t.equal(cancelled.error?.code, 'INVOCATION_CANCELLED');
  t.equal(cancelled.attempts, 0);
  gate.open();
  t.equal((await waitFinal(app, holder)).result, 1);
  t.equal((await invoke(app, 'one', false)).body, '2', 'the cancelled one never ran: this is the second run');
  assertProblem(t, await app.inject({ method: 'DELETE', url: `/v1/invocations/${queued}` }), 409, 'INVOCATION_FINISHED');
  assertProblem(t, await app.inject({ method: 'DELETE', url: `/v1/invocations/${holder}` }), 409, 'INVOCATION_FINISHED');
});

t.test('a running invocation sees ctx.signal abort and ends as cancelled', async (t) => {
  const app = await startWisp(t);
  const gate = await startGate(t);
  await mustDeploy(
    t,
    app,
    'polite',
    `export const config = { retries: 3 };
export default (_: unknown, ctx: { signal: AbortSignal }) => new Promise((resolve) => {
  console.log("started");
  ctx.signal.addEventListener("abort", () => { console.log("aborted: " + ctx.signal.reason.name); resolve("stopped politely"); });
  // Tells the test the handler is running; never answered until the test ends.
  fetch(${JSON.stringify(gate.url)}).catch(() => {});
});`,
  );
  const id = await mustSubmit(t, app, 'polite');
  await gate.arrived(1);
  const res = await app.inject({ method: 'DELETE', url: `/v1/invocations/${id}` });
  t.equal(res.statusCode, 204);
  const done = await waitFinal(app, id);
  t.equal(done.status, 'cancelled', 'cancel wins over the value the handler returned');
  t.equal(done.attempts, 1, 'a cancelled invocation is not retried');
  const logs = (await app.inject(`/v1/invocations/${id}/logs`)).json().logs.map((l: { message: string }) => l.message);
  t.same(logs, ['started', 'aborted: AbortError']);
});

t.test('a running invocation that ignores the signal is stopped after the grace period', async (t) => {
  const app = await startWisp(t, { invocations: { cancelGraceMs: 200 } as never, pool: { maxThreads: 1 } });
  await mustDeploy(t, app, 'stubborn', 'export const config = { timeoutMs: 60000 };\nexport default () => { for (;;) {} };');
  await mustDeploy(t, app, 'fine', 'export default () => "fine";');
  const id = await mustSubmit(t, app, 'stubborn');
  await waitStatus(app, id, 'running');
  t.equal((await app.inject({ method: 'DELETE', url: `/v1/invocations/${id}` })).statusCode, 204);
  const done = await waitFinal(app, id);
  t.equal(done.status, 'cancelled');
  t.equal((await invoke(app, 'fine')).body, '"fine"', 'the pool replaced the stopped thread');
});

t.test('a cancel that comes before any thread has started the attempt still stops it once one does', async (t) => {
  // A grace of 1 ms ends before the tier's first thread has booted: no thread had the cancel.
  const app = await startWisp(t, { invocations: { cancelGraceMs: 1 } as never, pool: { maxThreads: 1 } });
  await mustDeploy(t, app, 'stubborn', 'export const config = { timeoutMs: 60000 };\nexport default () => { for (;;) {} };');
  await mustDeploy(t, app, 'fine', 'export const config = { timeoutMs: 10000 };\nexport default () => "fine";');
  const id = await mustSubmit(t, app, 'stubborn');
  await waitStatus(app, id, 'running');
  t.equal((await app.inject({ method: 'DELETE', url: `/v1/invocations/${id}` })).statusCode, 204);
  t.equal((await waitFinal(app, id)).status, 'cancelled');
  // Without the stop, the one thread spins on the cancelled attempt for its 60 s, and this call times out.
  t.equal((await invoke(app, 'fine')).body, '"fine"', 'the thread that picked it up late was stopped');
});

t.test('synchronous invocations cannot be cancelled', async (t) => {
  const app = await startWisp(t);
  await mustDeploy(t, app, 'fine', 'export default () => "fine";');
  const id = (await invoke(app, 'fine')).headers['x-invocation-id'] as string;
  assertProblem(t, await app.inject({ method: 'DELETE', url: `/v1/invocations/${id}` }), 409, 'INVOCATION_FINISHED');
  assertProblem(t, await app.inject({ method: 'DELETE', url: '/v1/invocations/00000000-0000-4000-8000-000000000000' }), 404, 'INVOCATION_NOT_FOUND');
});
