// Synchronous invoke: results, errors, timeouts, crashes, limits.
import t from 'tap';
import { startGate } from '../helpers/gate.js';
import { assertProblem, invoke, mustDeploy, startWisp } from '../helpers/wisp.js';

t.test('the result is the body, with an x-invocation-id', async (t) => {
  const app = await startWisp(t);
  await mustDeploy(t, app, 'echo', 'export default (input: unknown, ctx: { invocationId: string; attempt: number }) => ({ input, id: ctx.invocationId, attempt: ctx.attempt });');
  const res = await invoke(app, 'echo', { a: [1, 2] });
  t.equal(res.statusCode, 200);
  t.match(res.headers['content-type'], /^application\/json/);
  const id = res.headers['x-invocation-id'];
  t.match(id, /^[0-9a-f-]{36}$/);
  t.same(res.json(), { input: { a: [1, 2] }, id, attempt: 1 });
  t.not((await invoke(app, 'echo', 1)).headers['x-invocation-id'], id, 'each call has its own id');
});

t.test('an empty body is null input; undefined results are null', async (t) => {
  const app = await startWisp(t);
  await mustDeploy(t, app, 'what', 'export default (input: unknown) => ({ isNull: input === null });');
  t.same((await invoke(app, 'what')).json(), { isNull: true });
  await mustDeploy(t, app, 'nothing', 'export default () => {};');
  t.equal((await invoke(app, 'nothing')).body, 'null');
});

t.test('unknown function or version is 404', async (t) => {
  const app = await startWisp(t);
  assertProblem(t, await invoke(app, 'ghost'), 404, 'FUNCTION_NOT_FOUND');
  await mustDeploy(t, app, 'real', 'export default () => 1;');
  const body = assertProblem(t, await invoke(app, 'real', null, '?version=7'), 404, 'VERSION_NOT_FOUND');
  t.match(body.detail, /has no version 7/);
  assertProblem(t, await invoke(app, 'real', null, '?version=abc'), 400, 'INVALID_REQUEST');
  assertProblem(t, await invoke(app, 'real', null, '?versoin=1'), 400, 'INVALID_REQUEST');
});

t.test('malformed JSON is 400 INVALID_JSON; prototype poisoning is refused', async (t) => {
  const app = await startWisp(t);
  await mustDeploy(t, app, 'j', 'export default (x: unknown) => x;');
  const post = (payload: string, type = 'application/json') =>
    app.inject({ method: 'POST', url: '/v1/functions/j/invoke', headers: { 'content-type': type }, payload });
  const bad = assertProblem(t, await post('{"a":'), 400, 'INVALID_JSON');
  t.match(bad.detail, /not valid JSON/);
  assertProblem(t, await post('{"__proto__": {"admin": true}}'), 400, 'INVALID_JSON');
  assertProblem(t, await post('hello', 'text/plain'), 400, 'INVALID_JSON');
  t.same((await post('{"a":2}', 'application/x-www-form-urlencoded')).json(), { a: 2 }, "curl -d's default type is read as JSON");
  t.same((await post('{"a":1}', 'application/vnd.api+json')).json(), { a: 1 }, '+json types are JSON');
});

t.test('a thrown error is 500 FUNCTION_ERROR with its name, message and user stack', async (t) => {
  const app = await startWisp(t);
  await mustDeploy(t, app, 'thrower', 'export default function () {\n  throw new TypeError("wrong shape");\n}');
  const body = assertProblem(t, await invoke(app, 'thrower'), 500, 'FUNCTION_ERROR');
  t.match(body.detail, 'TypeError: wrong shape');
  t.match(body.error, { name: 'TypeError', message: 'wrong shape' });
  t.match((body.error as { stack: string }).stack, /thrower\.ts:2:\d+/);
  t.notMatch((body.error as { stack: string }).stack, /worker-entry|piscina/, "Wisp's own frames are cut");
  await mustDeploy(t, app, 'rejecter', 'export default async () => { throw "a string"; }');
  t.match(assertProblem(t, await invoke(app, 'rejecter'), 500, 'FUNCTION_ERROR').detail, /non-error value thrown: a string/);
});

t.test('an endless loop is 504 FUNCTION_TIMEOUT and the thread is replaced', async (t) => {
  const app = await startWisp(t, { pool: { maxThreads: 1 } });
  await mustDeploy(t, app, 'spin', 'export const config = { timeoutMs: 200 };\nexport default () => { for (;;) {} };');
  // Its own default timeout: the call waits for the thread that replaces the stopped one, and
  // that boot alone can pass 200 ms on a loaded machine (a deadline counts from the request).
  await mustDeploy(t, app, 'fine', 'export default () => "fine";');
  const body = assertProblem(t, await invoke(app, 'spin'), 504, 'FUNCTION_TIMEOUT');
  t.match(body.detail, /200 ms timeout/);
  t.ok((await invoke(app, 'spin')).statusCode === 504, 'again');
  const next = await invoke(app, 'fine');
  t.equal(next.statusCode, 200, 'the very next call on the one-thread tier works');
  t.equal(next.json(), 'fine');
});

t.test('out of memory, process.exit and an uncaught error crash only the worker', async (t) => {
  const app = await startWisp(t, { pool: { maxThreads: 1 } });
  await mustDeploy(t, app, 'hog', 'export const config = { memoryMb: 32 };\nexport default () => { const keep: number[][] = []; for (;;) keep.push(new Array(1e5).fill(1.5)); };');
  await mustDeploy(t, app, 'quitter', 'export default () => process.exit(3);');
  await mustDeploy(t, app, 'bomb', 'export default () => new Promise(() => { setTimeout(() => { throw new Error("late"); }, 1); });');
  await mustDeploy(t, app, 'fine', 'export const config = { memoryMb: 32 };\nexport default () => "fine";');

  t.match(assertProblem(t, await invoke(app, 'hog'), 500, 'FUNCTION_CRASHED').detail, /out of memory \(heap limit 32 MB\)/);
  t.equal((await invoke(app, 'fine')).json(), 'fine', 'the next call in the 32 MB tier works');
  t.match(assertProblem(t, await invoke(app, 'quitter'), 500, 'FUNCTION_CRASHED').detail, /exited with code: 3/);
  t.equal((await invoke(app, 'quitter')).statusCode, 500, 'and again');
  t.match(assertProblem(t, await invoke(app, 'bomb'), 500, 'FUNCTION_CRASHED').detail, /late/);
  t.equal((await invoke(app, 'fine')).json(), 'fine');
  t.equal((await app.inject('/healthz')).statusCode, 200, 'the gateway is up');
});

t.test('past config.concurrency calls in flight is 429 CONCURRENCY_LIMIT', async (t) => {
  const gate = await startGate(t);
  const app = await startWisp(t, { pool: { maxThreads: 3 } });
  await mustDeploy(t, app, 'slow', `export const config = { concurrency: 2 };\nexport default async () => (await fetch(${JSON.stringify(gate.url)})).text();`);
  const first = invoke(app, 'slow');
  const second = invoke(app, 'slow');
  await gate.arrived(2);
  const third = assertProblem(t, await invoke(app, 'slow'), 429, 'CONCURRENCY_LIMIT');
  t.match(third.detail, /already running 2 calls/);
  t.equal((await app.inject('/v1/node')).json().pool.inFlight, 2);
  gate.open();
  t.equal((await first).json(), 'open');
  t.equal((await second).json(), 'open');
  t.equal((await invoke(app, 'slow')).json(), 'open', 'slots are given back');
});

t.test('results that cannot be sent are errors, not hangs', async (t) => {
  const app = await startWisp(t, { limits: { resultBytes: 1000 } });
  await mustDeploy(t, app, 'huge', 'export default () => "x".repeat(5000);');
  t.match(assertProblem(t, await invoke(app, 'huge'), 502, 'RESULT_TOO_LARGE').detail, /limit is 1000/);
  await mustDeploy(t, app, 'cyclic', 'export default () => { const a: any = {}; a.a = a; return a; };');
  t.match(assertProblem(t, await invoke(app, 'cyclic'), 500, 'FUNCTION_ERROR').detail, /not JSON-serializable/);
  await mustDeploy(t, app, 'big', 'export default () => 10n;');
  t.equal(assertProblem(t, await invoke(app, 'big'), 500, 'FUNCTION_ERROR').code, 'FUNCTION_ERROR');
});

t.test('a fetch-only function cannot be invoked as JSON', async (t) => {
  const app = await startWisp(t);
  await mustDeploy(t, app, 'web', 'export default { fetch: () => new Response("hi") };');
  t.match(assertProblem(t, await invoke(app, 'web'), 400, 'NO_JSON_HANDLER').detail, /call it at \/fn\/web/);
});

t.test('ctx.signal aborts at the deadline', async (t) => {
  const app = await startWisp(t);
  await mustDeploy(
    t,
    app,
    'patient',
    'export const config = { timeoutMs: 2000 };\nexport default (_: unknown, ctx: { signal: AbortSignal }) => ({ aborted: ctx.signal.aborted, isSignal: ctx.signal instanceof AbortSignal });',
  );
  t.same((await invoke(app, 'patient')).json(), { aborted: false, isSignal: true });
});
