// The examples in functions/ deploy and do what the README says.
import t from 'tap';
import { readFileSync } from 'node:fs';
import { invoke, mustDeploy, startWisp } from './helpers/wisp.js';
import { listenForSockets, openSocket } from './helpers/sockets.js';

const example = (file: string) => readFileSync(new URL(`../functions/${file}`, import.meta.url), 'utf8');

t.test('functions/ examples', async (t) => {
  const app = await startWisp(t);
  await mustDeploy(t, app, 'hello', example('hello.ts'));
  t.same((await invoke(app, 'hello', { name: 'Ann' })).json(), { greeting: 'Hello, Ann' });

  await mustDeploy(t, app, 'echo-http', example('echo-http.ts'));
  const echo = await app.inject({ method: 'POST', url: '/fn/echo-http/some/path?x=1', payload: 'hello', headers: { 'content-type': 'text/plain' } });
  t.equal(echo.headers['x-powered-by'], 'wisp');
  t.same(echo.json(), { method: 'POST', path: '/fn/echo-http/some/path', query: { x: '1' }, body: 'hello' });

  await mustDeploy(t, app, 'whoami', example('whoami.ts'));
  const who = await invoke(app, 'whoami');
  t.match(who.json(), { invocationId: who.headers['x-invocation-id'], function: 'whoami', version: 1, attempt: 1 });
});

t.test('functions/counter.ts: instances with state, calling each other by handle', async (t) => {
  const app = await startWisp(t, { node: { cpu: 2000, memory: 4000, custom: {} } });
  await mustDeploy(t, app, 'counter', example('counter.ts'));
  const create = (args: unknown[]) =>
    app.inject({ method: 'POST', url: '/v1/functions/counter/instances', headers: { 'content-type': 'application/json' }, payload: JSON.stringify({ args }) });
  // curl -d sends application/x-www-form-urlencoded; method calls read it as JSON all the same.
  const call = (id: string, method: string, body: string) => app.inject({ method: 'POST', url: `/v1/instances/${id}/methods/${method}`, payload: body, headers: { 'content-type': 'application/x-www-form-urlencoded' } });
  const a = (await create([10])).json().id;
  const b = (await create([])).json().id;
  t.equal((await call(a, 'add', '[1]')).body, '11');
  t.equal((await call(b, 'add', '')).body, '1', 'default parameters work: no ctx is appended to the arguments');
  t.equal((await call(a, 'giveTo', JSON.stringify([b]))).body, '12');
  t.equal((await call(b, 'get', '')).body, '12');
});

t.test('functions/chat.ts: a room whose lines reach every socket, and a method call reaches them too', async (t) => {
  const app = await startWisp(t, { node: { cpu: 2000, memory: 4000, custom: {} } });
  await mustDeploy(t, app, 'chat', example('chat.ts'));
  const id = (await app.inject({ method: 'POST', url: '/v1/functions/chat/instances', headers: { 'content-type': 'application/json' }, payload: '{}' })).json().id;
  const base = await listenForSockets(app);
  const [ann, bo] = [await openSocket(`${base}/v1/instances/${id}/ws`), await openSocket(`${base}/v1/instances/${id}/ws`)];
  t.match(await ann.nextJson(), { present: 1, recent: [] });
  t.match(await bo.nextJson(), { present: 2 });
  ann.send('hi all');
  const line = await bo.nextJson();
  t.equal(line.text, 'hi all');
  t.same(await ann.nextJson(), line, 'the sender hears its own line too');
  const announced = await app.inject({ method: 'POST', url: `/v1/instances/${id}/methods/announce`, payload: '["closing soon"]', headers: { 'content-type': 'application/json' } });
  t.equal(announced.body, '2', 'the announcement went to both sockets');
  t.same(await bo.nextJson(), { from: 'announcement', text: 'closing soon' });
  bo.send(Buffer.from([1]));
  t.same(await bo.closed, { code: 4400, reason: 'this room takes text frames' });
});
