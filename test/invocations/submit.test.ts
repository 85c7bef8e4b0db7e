// POST /v1/functions/{name}/invocations: 202 with a Location once recorded, then queued → running
// → succeeded, under the function's concurrency limit; bad submissions are 4xx, never queued.
import t from 'tap';
import { startGate } from '../helpers/gate.js';
import { getInvocation, mustSubmit, submit, waitFinal, waitStatus } from '../helpers/invocations.js';
import { assertProblem, mustDeploy, startWisp } from '../helpers/wisp.js';

const double = 'export default async (n: number, ctx: { attempt: number }) => ({ doubled: n * 2, attempt: ctx.attempt });';

t.test('a submission is acknowledged with 202, a Location and an id, and reaches succeeded', async (t) => {
  const app = await startWisp(t);
  await mustDeploy(t, app, 'double', double);
  const res = await submit(app, 'double', 21);
  t.equal(res.statusCode, 202, res.body);
  const { id, status } = res.json();
  t.equal(status, 'queued');
  t.equal(res.headers.location, `/v1/invocations/${id}`);
  t.equal(res.headers['x-invocation-id'], id);
  const done = await waitFinal(app, id);
  t.equal(done.status, 'succeeded');
  t.same(done.result, { doubled: 42, attempt: 1 });
  t.equal(done.attempts, 1);
  t.equal(done.mode, 'async');
  t.same(done.input, 21);
  t.ok(Date.parse(done.createdAt as string) <= Date.parse(done.startedAt as string));
  t.ok(Date.parse(done.startedAt as string) <= Date.parse(done.finishedAt as string));
  const listed = (await app.inject('/v1/invocations?function=double')).json().invocations;
  t.same(listed.map((i: { id: string }) => i.id), [id], 'it is in the list');
});

t.test('the acknowledgement comes only after the record is in the store', async (t) => {
  const app = await startWisp(t);
  await mustDeploy(t, app, 'double', double);
  const ids = await Promise.all(Array.from({ length: 20 }, (_, i) => mustSubmit(t, app, 'double', i)));
  // Asynchronous records are read from the store only (the memory cache holds synchronous ones),
  // so each is readable the moment its 202 came back. A SIGKILL test (durability.test.ts) checks
  // that they survive the process too.
  for (const id of ids) t.equal((await app.inject(`/v1/invocations/${id}`)).statusCode, 200, `${id} is readable at once`);
  t.equal(new Set(ids).size, 20, 'each got its own id');
  for (const id of ids) t.equal((await waitFinal(app, id)).status, 'succeeded');
});

t.test('the dispatcher honours the function concurrency limit', async (t) => {
  const app = await startWisp(t);
  const gate = await startGate(t);
  await mustDeploy(t, app, 'one', `export const config = { concurrency: 1 };\nexport default async () => (await fetch(${JSON.stringify(gate.url)})).text();`);
  const first = await mustSubmit(t, app, 'one');
  const second = await mustSubmit(t, app, 'one');
  await gate.arrived(1);
  await waitStatus(app, first, 'running');
  t.equal((await getInvocation(app, second)).status, 'queued', 'the second waits while the first holds the only slot');
  const sync = await app.inject({ method: 'POST', url: '/v1/functions/one/invoke' });
  assertProblem(t, sync, 429, 'CONCURRENCY_LIMIT');
  gate.open();
  t.equal((await waitFinal(app, first)).status, 'succeeded');
  t.equal((await waitFinal(app, second)).status, 'succeeded');
});


t.test('a function held at its concurrency limit with a backlog does not hold up another function', async (t) => {
  // A lease of ten minutes: no periodic take-back pass comes to run what the queue left behind.
  const app = await startWisp(t, { invocations: { maxRunning: 4, leaseMs: 600_000 } });
  const gate = await startGate(t);
  await mustDeploy(t, app, 'narrow', `export const config = { concurrency: 1 };\nexport default async () => (await fetch(${JSON.stringify(gate.url)})).text();`);
  await mustDeploy(t, app, 'other', double);
  // More waiting than the node runs at once: a queue that took them in order would be stuck.
  const backlog = [];
  for (let i = 0; i < 12; i++) backlog.push(await mustSubmit(t, app, 'narrow'));
  await gate.arrived(1);
  const other = await mustSubmit(t, app, 'other', 2);
  t.equal((await waitFinal(app, other)).status, 'succeeded', 'the other function ran while the backlog waited');
  t.equal((await getInvocation(app, backlog.at(-1)!)).status, 'queued', 'the backlog is still waiting');
  gate.open();
  for (const id of backlog) t.equal((await waitFinal(app, id)).status, 'succeeded');
});
t.test('bad submissions are refused with a 4xx and nothing is queued', async (t) => {
  const app = await startWisp(t);
  await mustDeploy(t, app, 'web', 'export default { fetch: () => new Response("hi") };');
  await mustDeploy(t, app, 'double', double);
  assertProblem(t, await submit(app, 'nope', 1), 404, 'FUNCTION_NOT_FOUND');
  assertProblem(t, await submit(app, 'Bad_Name', 1), 400, 'INVALID_NAME');
  assertProblem(t, await submit(app, 'web', 1), 400, 'NO_JSON_HANDLER');
  assertProblem(t, await app.inject({ method: 'POST', url: '/v1/functions/double/invocations?version=9', payload: '1' }), 404, 'VERSION_NOT_FOUND');
  assertProblem(t, await submit(app, 'double', 1, { 'x-callback-url': 'ftp://example.com/x' }), 400, 'INVALID_REQUEST');
  assertProblem(t, await submit(app, 'double', 1, { 'x-callback-url': 'not a url' }), 400, 'INVALID_REQUEST');
  assertProblem(t, await submit(app, 'double', 1, { 'idempotency-key': 'has space' }), 400, 'INVALID_REQUEST');
  const bad = await app.inject({ method: 'POST', url: '/v1/functions/double/invocations', headers: { 'content-type': 'application/json' }, payload: '{"a":' });
  assertProblem(t, bad, 400, 'INVALID_JSON');
  t.same((await app.inject('/v1/invocations')).json().invocations, [], 'nothing was recorded');
});

t.test('reading invocations: unknown ids are 404, malformed ids 400, bad filters 400', async (t) => {
  const app = await startWisp(t);
  assertProblem(t, await app.inject('/v1/invocations/00000000-0000-4000-8000-000000000000'), 404, 'INVOCATION_NOT_FOUND');
  assertProblem(t, await app.inject('/v1/invocations/../etc'), 404, 'ROUTE_NOT_FOUND');
  assertProblem(t, await app.inject('/v1/invocations/not-an-id'), 400, 'INVALID_REQUEST');
  assertProblem(t, await app.inject('/v1/invocations?status=lost'), 400, 'INVALID_REQUEST');
  assertProblem(t, await app.inject('/v1/invocations?limit=0'), 400, 'INVALID_REQUEST');
  assertProblem(t, await app.inject('/v1/invocations/00000000-0000-4000-8000-000000000000?wait=999'), 400, 'INVALID_REQUEST');
});

t.test('the list pages newest first with limit and before', async (t) => {
  const app = await startWisp(t);
  await mustDeploy(t, app, 'double', double);
  const ids: string[] = [];
  // One at a time so creation order is well defined.
  for (let i = 0; i < 5; i++) ids.push(await mustSubmit(t, app, 'double', i));
  for (const id of ids) await waitFinal(app, id);
  const page1 = (await app.inject('/v1/invocations?limit=2')).json().invocations.map((i: { id: string }) => i.id);
  const page2 = (await app.inject(`/v1/invocations?limit=2&before=${page1[1]}`)).json().invocations.map((i: { id: string }) => i.id);
  const all = (await app.inject('/v1/invocations?status=succeeded')).json().invocations.map((i: { id: string }) => i.id);
  t.same(all.length, 5);
  t.same([...page1, ...page2], all.slice(0, 4));
});
