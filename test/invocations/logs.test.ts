// console.* inside a function is captured per invocation, for synchronous and asynchronous calls,
// kept apart when two invocations share a worker, and bounded in size.
import t from 'tap';
import { startGate } from '../helpers/gate.js';
import { mustSubmit, waitFinal } from '../helpers/invocations.js';
import { invoke, mustDeploy, startWisp } from '../helpers/wisp.js';
import type { App } from '../helpers/wisp.js';

async function logsOf(app: App, id: string): Promise<{ level: string; message: string; attempt: number; time: string }[]> {
  const res = await app.inject(`/v1/invocations/${id}/logs`);
  if (res.statusCode !== 200) throw new Error(res.body);
  return res.json().logs;
}

t.test('a synchronous call has an id whose record and logs can be read back', async (t) => {
  const app = await startWisp(t);
  await mustDeploy(t, app, 'chatty', 'export default (n: number) => { console.log("got", n); console.warn("careful"); console.error(new Error("oops").message); return n; };');
  const res = await invoke(app, 'chatty', 5);
  const id = res.headers['x-invocation-id'] as string;
  const record = (await app.inject(`/v1/invocations/${id}`)).json();
  t.equal(record.status, 'succeeded');
  t.equal(record.mode, 'sync');
  t.equal(record.result, 5);
  t.notOk('input' in record, 'a synchronous record keeps no input');
  const logs = await logsOf(app, id);
  t.same(logs.map((l) => [l.level, l.message, l.attempt]), [['log', 'got 5', 1], ['warn', 'careful', 1], ['error', 'oops', 1]]);
  t.ok(logs.every((l) => !Number.isNaN(Date.parse(l.time))));
});

t.test('a failed synchronous call keeps its logs and error', async (t) => {
  const app = await startWisp(t);
  await mustDeploy(t, app, 'boom', 'export default () => { console.log("before"); throw new RangeError("bad"); };');
  const res = await invoke(app, 'boom');
  t.equal(res.statusCode, 500);
  const id = res.headers['x-invocation-id'] as string;
  const record = (await app.inject(`/v1/invocations/${id}`)).json();
  t.equal(record.status, 'failed');
  t.equal(record.error.code, 'FUNCTION_ERROR');
  t.equal(record.error.error.name, 'RangeError');
  t.same((await logsOf(app, id)).map((l) => l.message), ['before']);
});

t.test('two invocations running at once keep their own logs', async (t) => {
  const app = await startWisp(t, { pool: { maxThreads: 2 } });
  const gate = await startGate(t);
  await mustDeploy(
    t,
    app,
    'interleave',
    `export default async (name: string) => {
  console.log(name + " 1");
  await fetch(${JSON.stringify(gate.url)});
  console.log(name + " 2");
  await new Promise((r) => setTimeout(r, 1));
  console.log(name + " 3");
  return name;
};`,
  );
  const a = invoke(app, 'interleave', 'a');
  const b = invoke(app, 'interleave', 'b');
  await gate.arrived(2);
  gate.open();
  const [ra, rb] = await Promise.all([a, b]);
  t.same((await logsOf(app, ra.headers['x-invocation-id'] as string)).map((l) => l.message), ['a 1', 'a 2', 'a 3']);
  t.same((await logsOf(app, rb.headers['x-invocation-id'] as string)).map((l) => l.message), ['b 1', 'b 2', 'b 3']);
});

t.test("a timer left behind by one call never writes into a later call's logs", async (t) => {
  // One thread: the later call runs where the leaked timer fires.
  const app = await startWisp(t, { pool: { maxThreads: 1 } });
  await mustDeploy(t, app, 'leaky', 'export default () => { setTimeout(() => console.log("leaked line"), 20); return "left"; };');
  await mustDeploy(t, app, 'patient', 'export default async () => { console.log("patient 1"); await new Promise((r) => setTimeout(r, 200)); console.log("patient 2"); return "done"; };');
  t.equal((await invoke(app, 'leaky')).json(), 'left');
  const later = await invoke(app, 'patient');
  t.equal(later.json(), 'done');
  t.same((await logsOf(app, later.headers['x-invocation-id'] as string)).map((l) => l.message), ['patient 1', 'patient 2']);
});

t.test('asynchronous logs cover every attempt, each line marked with its attempt', async (t) => {
  const app = await startWisp(t);
  await mustDeploy(
    t,
    app,
    'retrying',
    'export const config = { retries: 1, retryBackoffMs: 0 };\nexport default (_: unknown, ctx: { attempt: number }) => { console.info("attempt", ctx.attempt); if (ctx.attempt === 1) throw new Error("x"); return "ok"; };',
  );
  const id = await mustSubmit(t, app, 'retrying');
  await waitFinal(app, id);
  t.same((await logsOf(app, id)).map((l) => [l.level, l.message, l.attempt]), [['info', 'attempt 1', 1], ['info', 'attempt 2', 2]]);
});

t.test('the log of one invocation is bounded; the last line says how much was dropped', async (t) => {
  const app = await startWisp(t, { invocations: { logBytes: 1000 } as never });
  await mustDeploy(t, app, 'flood', 'export default () => { for (let i = 0; i < 500; i++) console.log("line " + i + " ".repeat(40)); return "done"; };');
  const res = await invoke(app, 'flood');
  t.equal(res.body, '"done"');
  const logs = await logsOf(app, res.headers['x-invocation-id'] as string);
  const kept = logs.slice(0, -1);
  t.ok(kept.reduce((n, l) => n + l.message.length, 0) <= 1000, 'the kept lines fit the budget');
  t.ok(kept.length > 5 && kept.length < 50);
  t.match(logs.at(-1)!.message, /\d+ more line\(s\) dropped/);
});
