// The mistakes a careless first-time user makes get an answer they can act on: the right method,
// the right Content-Type, the field with the wrong type. None of them is a 5xx.
import t from 'tap';
import { connect } from 'node:net';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { multipartBody, type ConfigPart } from '../helpers/archives.js';
import { assertProblem, deploy, invoke, mustDeploy, startWisp } from '../helpers/wisp.js';

const HELLO = 'export default (input: { name?: string } | null) => ({ hello: input?.name ?? "world" });';
const SITE = 'export default { fetch: (request: Request) => new Response(request.method) };';
const COUNTER = 'export class Counter { n = 0; add() { return ++this.n; } }';

t.test('a known path with the wrong method is 405 with Allow, and says which method to use', async (t) => {
  const app = await startWisp(t);
  await mustDeploy(t, app, 'whoami', HELLO);
  const res = await app.inject({ method: 'GET', url: '/v1/functions/whoami/invoke' });
  const body = assertProblem(t, res, 405, 'METHOD_NOT_ALLOWED');
  t.equal(res.headers.allow, 'POST');
  t.match(body.detail, /use POST to invoke/);
  const versions = await app.inject({ method: 'POST', url: '/v1/functions/whoami/versions' });
  assertProblem(t, versions, 405, 'METHOD_NOT_ALLOWED');
  t.match(versions.headers.allow, /GET/);
  t.match(versions.headers.allow, /HEAD/);
  assertProblem(t, await app.inject({ method: 'GET', url: '/v1/no/such/thing' }), 404, 'ROUTE_NOT_FOUND');
});

t.test('TRACE, CONNECT and other methods a fetch Request cannot carry are 405 on /fn/, never a function error', async (t) => {
  const app = await startWisp(t);
  await mustDeploy(t, app, 'site', SITE);
  for (const method of ['TRACE', 'CONNECT', 'PROPFIND'] as const) {
    for (const url of ['/fn/site', '/fn/site/deeper/path']) {
      const res = await app.inject({ method, url });
      assertProblem(t, res, 405, 'METHOD_NOT_ALLOWED');
      t.notMatch(res.headers.allow, /TRACE|CONNECT/, `${method} ${url}: Allow lists only methods the route takes`);
    }
  }
  for (const method of ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'] as const) {
    const res = await app.inject({ method, url: '/fn/site' });
    t.equal(res.body, method, `${method} still reaches the function`);
  }
});

t.test('CONNECT over a real socket gets a 405 problem document, not a dropped connection', async (t) => {
  const app = await startWisp(t);
  await app.listen({ host: '127.0.0.1', port: 0 });
  const { port } = app.server.address() as AddressInfo;
  const socket = connect(port, '127.0.0.1');
  await once(socket, 'connect');
  socket.write('CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n');
  let answer = '';
  socket.on('data', (chunk) => (answer += chunk));
  await once(socket, 'close');
  t.match(answer, /^HTTP\/1\.1 405 /);
  t.match(answer, /application\/problem\+json/);
  t.match(answer, /"code":"METHOD_NOT_ALLOWED"/);
});

t.test('JSON bodies are not coerced: a wrong type is 400 naming the field; query strings still are', async (t) => {
  const app = await startWisp(t, { node: { cpu: 4000, memory: 4000, custom: {} } });
  await mustDeploy(t, app, 'hello', HELLO);
  await mustDeploy(t, app, 'hello', HELLO);
  const patch = (payload: string) => app.inject({ method: 'PATCH', url: '/v1/functions/hello', headers: { 'content-type': 'application/json' }, payload });
  for (const value of ['true', '"1"', '1.5', 'null']) {
    const body = assertProblem(t, await patch(`{"activeVersion": ${value}}`), 400, 'INVALID_REQUEST');
    t.match(body.detail, /activeVersion/, `{"activeVersion": ${value}} names the field`);
  }
  t.equal((await patch('{"activeVersion": 1}')).json().activeVersion, 1);

  await mustDeploy(t, app, 'counter', COUNTER);
  const create = (payload: string) => app.inject({ method: 'POST', url: '/v1/functions/counter/instances', headers: { 'content-type': 'application/json' }, payload });
  assertProblem(t, await create('false'), 400, 'INVALID_REQUEST');
  assertProblem(t, await create('0'), 400, 'INVALID_REQUEST');
  t.match((await create('{"maxRestarts": "2"}')).json(), { code: 'INVALID_REQUEST', detail: /maxRestarts/ });
  t.equal((await app.inject({ method: 'GET', url: '/v1/instances' })).json().instances.length, 0, 'none of those made an instance');
  t.equal((await create('')).statusCode, 201, 'an empty body is no arguments');

  t.same((await invoke(app, 'hello', { name: 'Q' }, '?version=1')).json(), { hello: 'Q' }, '?version=1 is read as the integer 1');
  assertProblem(t, await invoke(app, 'hello', null, '?version=one'), 400, 'INVALID_REQUEST');
});

t.test('a JSON route told another Content-Type answers 415 naming application/json; curl -d just works', async (t) => {
  const app = await startWisp(t);
  await mustDeploy(t, app, 'hello', HELLO);
  const asText = await app.inject({ method: 'PATCH', url: '/v1/functions/hello', headers: { 'content-type': 'text/plain' }, payload: '{"activeVersion": 1}' });
  t.match(assertProblem(t, asText, 415, 'UNSUPPORTED_MEDIA_TYPE').detail, /application\/json/);
  const group = await app.inject({ method: 'POST', url: '/v1/groups', headers: { 'content-type': 'text/csv' }, payload: 'a,b' });
  t.match(assertProblem(t, group, 415, 'UNSUPPORTED_MEDIA_TYPE').detail, /application\/json/);
  // What `curl -X PATCH -d '{"activeVersion":1}' …` sends.
  const curl = await app.inject({ method: 'PATCH', url: '/v1/functions/hello', headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: '{"activeVersion": 1}' });
  t.equal(curl.statusCode, 200, curl.body);
  const env = await app.inject({ method: 'PATCH', url: '/v1/functions/hello/env', headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: '{"TOKEN": "s3cret"}' });
  t.equal(env.statusCode, 200, env.body);
  const text = await invoke(app, 'hello');
  t.equal(text.statusCode, 200);
  const garbage = await app.inject({ method: 'POST', url: '/v1/functions/hello/invoke', headers: { 'content-type': 'text/plain' }, payload: 'hello there' });
  t.match(assertProblem(t, garbage, 400, 'INVALID_JSON').detail, /sent as text\/plain.*application\/json/);
});

t.test('a deploy whose body is not its declared type says which type to send', async (t) => {
  const app = await startWisp(t);
  const asJson = assertProblem(t, await deploy(app, 'mod', HELLO, 'application/json'), 415, 'UNSUPPORTED_MEDIA_TYPE');
  t.match(asJson.detail, /application\/typescript/);
  const notZip = assertProblem(t, await deploy(app, 'mod', HELLO, 'application/zip'), 400, 'INVALID_ARCHIVE');
  t.match(notZip.detail, /not a zip or tar\.gz archive.*application\/typescript/);
  const image = assertProblem(t, await deploy(app, 'mod', HELLO, 'image/png'), 415, 'UNSUPPORTED_MEDIA_TYPE');
  t.match(image.detail, /image\/png.*application\/typescript/);
  t.equal((await deploy(app, 'mod', HELLO, 'text/plain')).statusCode, 201, 'text/plain is source text');
});

t.test('empty deploys are EMPTY_UPLOAD whatever their type', async (t) => {
  const app = await startWisp(t);
  for (const type of ['text/plain', 'application/json', 'application/typescript', 'application/zip', 'application/octet-stream', 'application/x-www-form-urlencoded']) {
    assertProblem(t, await deploy(app, 'empty', '', type), 400, 'EMPTY_UPLOAD');
  }
  assertProblem(t, await deploy(app, 'blank', '  \n\t\n', 'text/plain'), 400, 'EMPTY_UPLOAD');
  assertProblem(t, await app.inject({ method: 'PUT', url: '/v1/functions/none' }), 400, 'EMPTY_UPLOAD');
  const { payload, contentType } = multipartBody('', 'fn.ts', '{"timeoutMs": 1000}');
  assertProblem(t, await app.inject({ method: 'PUT', url: '/v1/functions/empty', headers: { 'content-type': contentType }, payload }), 400, 'EMPTY_UPLOAD');
});

t.test('a multipart config part works as a field, as application/json, and as a file part', async (t) => {
  const app = await startWisp(t);
  for (const [i, as] of (['field', 'json-field', 'file'] as ConfigPart[]).entries()) {
    const { payload, contentType } = multipartBody(HELLO, 'hello.ts', `{"timeoutMs": ${1000 + i}}`, as);
    const res = await app.inject({ method: 'PUT', url: `/v1/functions/cfg-${i}`, headers: { 'content-type': contentType }, payload });
    t.equal(res.statusCode, 201, `config as ${as}: ${res.body}`);
    t.equal(res.json().config.timeoutMs, 1000 + i, `config as ${as} is applied`);
  }
  const { payload, contentType } = multipartBody(HELLO, 'hello.ts', '{"timeoutMs": ', 'file');
  assertProblem(t, await app.inject({ method: 'PUT', url: '/v1/functions/bad-cfg', headers: { 'content-type': contentType }, payload }), 400, 'INVALID_CONFIG');
});

t.test('/docs "Try it out" calls the address the docs were read from', async (t) => {
  const app = await startWisp(t);
  const res = await app.inject({ url: '/docs/json', headers: { host: 'wisp.internal:9123' } });
  t.same(res.json().servers.map((s: { url: string }) => s.url), ['http://wisp.internal:9123']);
});
