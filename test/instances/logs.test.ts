// console.* inside an instance is captured per call, like a stateless call's: a synchronous
// method call (and a constructor) answers with x-invocation-id and its lines are at
// /v1/invocations/{id}/logs; an asynchronous call's lines are kept with its record. Lines are
// bounded by invocations.logBytes, masked with the function's secrets, and never printed raw.
import t from 'tap';
import { callMethod, createInstance, mustCreate, roomy } from '../helpers/instances.js';
import { waitFinal } from '../helpers/invocations.js';
import { startWispProcess } from '../helpers/process.js';
import { mustDeploy, startWisp, type App } from '../helpers/wisp.js';
import { tempDir } from '../helpers/temp-dir.js';

const SECRET = 'sk_live_instance_0123456789';

const DIARY = `
export const config = { timeoutMs: 10000 };
export class Diary {
  entries: string[] = [];
  constructor(owner: string) {
    console.log('opened for', owner);
  }
  write(text: string) {
    this.entries.push(text);
    console.log('wrote', text);
    console.warn('entries:', this.entries.length);
    return this.entries.length;
  }
  async later(text: string) {
    await new Promise((resolve) => setTimeout(resolve, 1));
    console.info('after a tick:', text);
    return text;
  }
  tellKey() {
    console.error('the key is', this.ctx.env.API_KEY);
    return 'told';
  }
  chatter(lines: number) {
    for (let i = 0; i < lines; i++) console.log(String(i).padStart(4, '0') + 'x'.repeat(96));
    return lines;
  }
  fail() {
    console.log('about to fail');
    throw new RangeError('no more pages');
  }
}
`;

interface Line {
  level: string;
  message: string;
  attempt: number;
  time: string;
}

async function logsOf(app: App, id: string): Promise<Line[]> {
  const res = await app.inject(`/v1/invocations/${id}/logs`);
  if (res.statusCode !== 200) throw new Error(`logs of ${id}: ${res.statusCode} ${res.body}`);
  return res.json().logs;
}

async function startDiary(t: Parameters<typeof startWisp>[0], overrides = {}): Promise<App> {
  const app = await startWisp(t, { ...roomy, ...overrides });
  await mustDeploy(t, app, 'diary', DIARY);
  return app;
}

t.test('a synchronous method call has an invocation id; its record and logs can be read back', async (t) => {
  const app = await startDiary(t);
  const id = await mustCreate(t, app, 'diary', { args: ['ann'] });
  const res = await callMethod(app, id, 'write', ['dear diary']);
  t.equal(res.body, '1');
  const invocationId = res.headers['x-invocation-id'] as string;
  t.type(invocationId, 'string', 'the answer names its invocation');
  const record = (await app.inject(`/v1/invocations/${invocationId}`)).json();
  t.match(record, { mode: 'sync', status: 'succeeded', function: 'diary', instance: id, method: 'write', result: 1 });
  const logs = await logsOf(app, invocationId);
  t.same(
    logs.map((l) => [l.level, l.message, l.attempt]),
    [
      ['log', 'wrote dear diary', 1],
      ['warn', 'entries: 1', 1],
    ],
  );
  t.ok(logs.every((l) => !Number.isNaN(Date.parse(l.time))));
  // Lines written after an await belong to the same call.
  const later = await callMethod(app, id, 'later', ['tock']);
  t.same((await logsOf(app, later.headers['x-invocation-id'] as string)).map((l) => l.message), ['after a tick: tock']);
});

t.test("the constructor's output is kept under the id its create answers with", async (t) => {
  const app = await startDiary(t);
  const res = await createInstance(app, 'diary', { args: ['bo'], name: 'bo' });
  t.equal(res.statusCode, 201);
  const invocationId = res.headers['x-invocation-id'] as string;
  t.same((await logsOf(app, invocationId)).map((l) => l.message), ['opened for bo']);
  t.match((await app.inject(`/v1/invocations/${invocationId}`)).json(), { instance: res.json().id, method: 'constructor', status: 'succeeded' });
  const again = await createInstance(app, 'diary', { args: ['bo'], name: 'bo' });
  t.equal(again.statusCode, 200);
  t.notOk(again.headers['x-invocation-id'], 'get-or-create of an existing instance ran no constructor');
});

t.test("an asynchronous method call's logs are kept with its record", async (t) => {
  const app = await startDiary(t);
  const id = await mustCreate(t, app, 'diary', { args: ['cy'] });
  const res = await app.inject({ method: 'POST', url: `/v1/instances/${id}/methods/write?async=true`, headers: { 'content-type': 'application/json' }, payload: '["queued"]' });
  t.equal(res.statusCode, 202);
  const done = await waitFinal(app, res.json().id);
  t.equal(done.status, 'succeeded');
  t.same(
    (await logsOf(app, done.id)).map((l) => [l.level, l.message, l.attempt]),
    [
      ['log', 'wrote queued', 1],
      ['warn', 'entries: 1', 1],
    ],
  );
});

t.test('a method that fails keeps its lines with the failed record', async (t) => {
  const app = await startDiary(t);
  const id = await mustCreate(t, app, 'diary', { args: ['dee'] });
  const res = await callMethod(app, id, 'fail');
  t.equal(res.statusCode, 500);
  const invocationId = res.headers['x-invocation-id'] as string;
  const record = (await app.inject(`/v1/invocations/${invocationId}`)).json();
  t.equal(record.status, 'failed');
  t.equal(record.error.code, 'METHOD_ERROR');
  t.same((await logsOf(app, invocationId)).map((l) => l.message), ['about to fail']);
});

t.test("secrets are masked in a method's and a constructor's lines", async (t) => {
  const app = await startDiary(t);
  const patched = await app.inject({ method: 'PATCH', url: '/v1/functions/diary/env', payload: { API_KEY: SECRET } });
  t.equal(patched.statusCode, 200);
  const created = await createInstance(app, 'diary', { args: [SECRET] });
  const id = created.json().id as string;
  const constructorLogs = await logsOf(app, created.headers['x-invocation-id'] as string);
  t.same(constructorLogs.map((l) => l.message), ['opened for [redacted]']);
  const res = await callMethod(app, id, 'tellKey');
  const logs = await logsOf(app, res.headers['x-invocation-id'] as string);
  t.same(logs.map((l) => l.message), ['the key is [redacted]']);
  t.notMatch(JSON.stringify(logs) + JSON.stringify(constructorLogs), SECRET);
});

t.test("one call's lines are bounded by invocations.logBytes", async (t) => {
  const app = await startDiary(t, { invocations: { logBytes: 4096 } });
  const id = await mustCreate(t, app, 'diary', { args: ['eve'] });
  const res = await callMethod(app, id, 'chatter', [1000]);
  t.equal(res.body, '1000');
  const logs = await logsOf(app, res.headers['x-invocation-id'] as string);
  const kept = logs.slice(0, -1);
  t.ok(kept.length > 0 && kept.length < 1000, `some lines kept, not all (${kept.length})`);
  t.ok(kept.reduce((sum, l) => sum + l.message.length, 0) <= 4096, 'within the budget');
  t.match(logs.at(-1)?.message, /\d+ more line\(s\) dropped/, 'the last line says how many were dropped');
  // The next call has a budget of its own.
  const next = await callMethod(app, id, 'write', ['fresh']);
  t.same((await logsOf(app, next.headers['x-invocation-id'] as string)).map((l) => l.message), ['wrote fresh', 'entries: 1']);
});

t.test("an instance's console output does not reach the gateway's stdout", async (t) => {
  const wisp = await startWispProcess(tempDir());
  t.teardown(() => wisp.child.kill('SIGKILL'));
  const MARKER = 'diary-marker-8d1f';
  // console.log is captured; process.stdout.write is not, which makes it a sentinel: the thread's
  // stdout is one stream in order, so a raw console line would arrive before it.
  const source = `export class Loud {
    constructor() { console.log('${MARKER} constructor'); }
    shout() { console.log('${MARKER} method'); console.error('${MARKER} error'); process.stdout.write('sentinel-after-shout\\n'); return 'shouted'; }
  }`;
  const put = await fetch(`${wisp.url}/v1/functions/loud`, { method: 'PUT', headers: { 'content-type': 'application/typescript' }, body: source });
  t.equal(put.status, 201);
  const firstSeen = wisp.line(new RegExp(`${MARKER}|sentinel-after-shout`));
  const created = await fetch(`${wisp.url}/v1/functions/loud/instances`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
  const { id } = (await created.json()) as { id: string };
  const called = await fetch(`${wisp.url}/v1/instances/${id}/methods/shout`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '[]' });
  t.equal(await called.json(), 'shouted');
  t.equal(await firstSeen, 'sentinel-after-shout', 'no console line of the constructor or method came before the sentinel');
  const logs = await fetch(`${wisp.url}/v1/invocations/${called.headers.get('x-invocation-id')}/logs`);
  t.same(((await logs.json()) as { logs: Line[] }).logs.map((l) => l.message), [`${MARKER} method`, `${MARKER} error`]);
  wisp.child.kill('SIGTERM');
  t.equal((await wisp.exited)[0], 0);
});
