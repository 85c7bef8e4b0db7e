// Nothing user code produces is copied whole before its size is known: results, thrown errors,
// log lines and fetch bodies are measured (or read as a stream) first. Each case is a function
// written the way a buggy one would be; the gateway and a bystander function are checked after.
import t from 'tap';
import { assertUnharmed, deployBystander } from '../helpers/bystander.js';
import { mustSubmit, waitFinal } from '../helpers/invocations.js';
import { assertProblem, invoke, mustDeploy, startWisp } from '../helpers/wisp.js';

t.test('huge results are 502 RESULT_TOO_LARGE without being built', async (t) => {
  const app = await startWisp(t);
  await deployBystander(t, app);
  // 50 MB once killed the whole process: measuring the JSON text ran V8 out of memory.
  await mustDeploy(t, app, 'big-string', "export default () => 'x'.repeat(50 * 1024 * 1024);");
  t.match(assertProblem(t, await invoke(app, 'big-string'), 502, 'RESULT_TOO_LARGE').detail, /limit is 6291456 bytes/);
  await assertUnharmed(t, app, 'a 50 MB string result');
  await mustDeploy(t, app, 'bigger-string', "export default () => 'x'.repeat(200 * 1024 * 1024);");
  assertProblem(t, await invoke(app, 'bigger-string'), 502, 'RESULT_TOO_LARGE');
  await assertUnharmed(t, app, 'a 200 MB string result');
  await mustDeploy(t, app, 'many-rows', 'export default () => Array.from({ length: 300_000 }, (_, i) => ({ id: i, name: "row number " + i }));');
  assertProblem(t, await invoke(app, 'many-rows'), 502, 'RESULT_TOO_LARGE');
  await mustDeploy(t, app, 'a-buffer', 'export default () => Buffer.alloc(20 * 1024 * 1024);');
  assertProblem(t, await invoke(app, 'a-buffer'), 502, 'RESULT_TOO_LARGE');
  await assertUnharmed(t, app, 'row and Buffer results');
});

t.test('a result just under the limit still goes through whole', async (t) => {
  const app = await startWisp(t, { limits: { resultBytes: 100_000 } });
  await mustDeploy(t, app, 'fits', "export default () => ({ text: 'é'.repeat(40_000) });");
  const res = await invoke(app, 'fits');
  t.equal(res.statusCode, 200);
  t.equal(res.json().text.length, 40_000);
  await mustDeploy(t, app, 'cyclic', 'export default () => { const a: any = {}; a.self = a; return a; };');
  t.match(assertProblem(t, await invoke(app, 'cyclic'), 500, 'FUNCTION_ERROR').detail, /not JSON-serializable/);
});

t.test('a huge thrown message is cut to a documented size, stack frames kept', async (t) => {
  const app = await startWisp(t);
  await deployBystander(t, app);
  await mustDeploy(t, app, 'upstream', "export default () => { const body = 'x'.repeat(50 * 1024 * 1024); throw new Error('upstream said: ' + body); };");
  const problem = assertProblem(t, await invoke(app, 'upstream'), 500, 'FUNCTION_ERROR');
  const error = problem.error as { message: string; stack: string };
  t.ok(error.message.startsWith('upstream said: xxx'), 'the message begins as thrown');
  t.match(error.message, /… \[\d+ more characters cut\]$/, 'and says it was cut');
  t.ok(error.message.length < 17_000, `the message is bounded (${error.message.length} characters)`);
  t.ok(error.stack.length < 34_000, 'the stack is bounded');
  t.match(error.stack, /upstream\.ts:1:\d+/, 'the stack still points at the user code');
  await mustDeploy(t, app, 'string-thrower', "export default () => { throw 'y'.repeat(30 * 1024 * 1024); };");
  const thrown = assertProblem(t, await invoke(app, 'string-thrower'), 500, 'FUNCTION_ERROR');
  t.ok(String((thrown.error as { message: string }).message).length < 17_000, 'a thrown string is bounded too');
  await assertUnharmed(t, app, 'huge thrown errors');
});

t.test('a huge console line is dropped and counted, not formatted', async (t) => {
  const app = await startWisp(t);
  await deployBystander(t, app);
  await mustDeploy(t, app, 'chatty', "export default () => { console.log('start'); console.log('x'.repeat(100 * 1024 * 1024)); console.log('%j', { rows: Array.from({ length: 1e6 }, (_, i) => i) }); console.log('end'); return 'ok'; };");
  const res = await invoke(app, 'chatty');
  t.equal(res.statusCode, 200);
  const logs = (await app.inject(`/v1/invocations/${res.headers['x-invocation-id']}/logs`)).json().logs as { message: string }[];
  t.same(logs.slice(0, 2).map((l) => l.message), ['start', 'end']);
  t.match(logs[2]!.message, /2 more line\(s\) dropped/);
  await assertUnharmed(t, app, 'a 100 MB log line');
});

t.test('a fetch handler body is read as a stream and refused past the limit', async (t) => {
  const app = await startWisp(t, { limits: { resultBytes: 1024 * 1024 } });
  await deployBystander(t, app);
  // An endless body: buffering it whole would never end.
  await mustDeploy(t, app, 'firehose', 'export default { fetch() { const chunk = new Uint8Array(64 * 1024); return new Response(new ReadableStream({ pull(c) { c.enqueue(chunk); } })); } };');
  const res = await app.inject({ method: 'GET', url: '/fn/firehose' });
  t.match(assertProblem(t, res, 502, 'RESULT_TOO_LARGE').detail, /response body is larger than the limit \(1048576 bytes/);
  await mustDeploy(t, app, 'liar', "export default { fetch() { return new Response('short', { headers: { 'content-length': '999999999' } }); } };");
  t.match(assertProblem(t, await app.inject('/fn/liar'), 502, 'RESULT_TOO_LARGE').detail, /declares 999999999 bytes/);
  await mustDeploy(t, app, 'modest', "export default { fetch() { return new Response('a'.repeat(1000), { headers: { 'content-type': 'text/plain' } }); } };");
  const fine = await app.inject('/fn/modest');
  t.equal(fine.statusCode, 200);
  t.equal(fine.body.length, 1000);
  await assertUnharmed(t, app, 'an endless response body');
});

t.test('an asynchronous invocation of a huge result fails once, not again and again', async (t) => {
  const app = await startWisp(t);
  await deployBystander(t, app);
  await mustDeploy(t, app, 'big-string', "export default () => 'x'.repeat(50 * 1024 * 1024);");
  const record = await waitFinal(app, await mustSubmit(t, app, 'big-string', {}));
  t.equal(record.status, 'failed');
  t.equal(record.error?.code, 'RESULT_TOO_LARGE');
  t.equal(record.attempts, 1, 'a result too large is not retried');
  await assertUnharmed(t, app, 'an async 50 MB result');
});

t.test('ctx.invoke refuses an input over the request body limit before sending it', async (t) => {
  const app = await startWisp(t, { limits: { requestBodyBytes: 64 * 1024 } });
  await deployBystander(t, app);
  await mustDeploy(t, app, 'fan-out', "export default async (_: unknown, ctx: any) => { try { await ctx.invoke('bystander', { n: 1, pad: 'p'.repeat(1024 * 1024) }); return 'sent'; } catch (err: any) { return err.code + ': ' + err.message; } };");
  const res = await invoke(app, 'fan-out');
  t.match(res.json(), /^PAYLOAD_TOO_LARGE: the input of ctx\.invoke\("bystander"\) is larger than the 65536-byte limit/);
  await assertUnharmed(t, app, 'an oversized nested input');
});
