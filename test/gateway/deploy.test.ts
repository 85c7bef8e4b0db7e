// Deploying by upload: source, multipart, archives; versions, rollback, delete.
import t from 'tap';
import { multipartBody, projectWithDependency, tarGz, zip } from '../helpers/archives.js';
import { assertProblem, deploy, fixture, invoke, mustDeploy, startWisp } from '../helpers/wisp.js';

t.test('raw TypeScript source, as curl --data-binary sends it', async (t) => {
  const app = await startWisp(t);
  const res = await deploy(app, 'hello', fixture('hello.ts'), 'application/x-www-form-urlencoded');
  t.equal(res.statusCode, 201, res.body);
  t.equal(res.headers.location, '/v1/functions/hello');
  const body = res.json();
  t.match(body, { name: 'hello', version: 1, exports: { handler: true, fetch: false, classes: [] } });
  t.match(body.digest, /^[0-9a-f]{64}$/);
  t.equal(body.config.timeoutMs, 5000, 'export const config is read at deploy');
  t.equal(body.config.memoryMb, 128, 'unset keys take the defaults');
  const call = await invoke(app, 'hello', { name: 'Ann' });
  t.equal(call.statusCode, 200);
  t.match(call.json(), { greeting: 'Hello, Ann', function: 'hello', version: 1 });
});

t.test('raw JavaScript source', async (t) => {
  const app = await startWisp(t);
  await mustDeploy(t, app, 'plain', 'export default (x) => x * 2;');
  t.equal((await invoke(app, 'plain', 21)).body, '42');
});

t.test('the module reports its exports: fetch handler and classes', async (t) => {
  const app = await startWisp(t);
  const body = await mustDeploy(t, app, 'mixed', 'export default { fetch() { return new Response("x") } };\nexport class Counter { n = 0 }\nexport class Room {}');
  t.same(body.exports, { handler: false, fetch: true, classes: ['Counter', 'Room'] });
});

t.test('multipart with a code file and a config part', async (t) => {
  const app = await startWisp(t);
  const { payload, contentType } = multipartBody(fixture('hello.ts'), 'hello.ts', '{"timeoutMs": 1000, "concurrency": 7}');
  const res = await app.inject({ method: 'PUT', url: '/v1/functions/hello', headers: { 'content-type': contentType }, payload });
  t.equal(res.statusCode, 201, res.body);
  t.match(res.json().config, { timeoutMs: 1000, concurrency: 7, memoryMb: 128 }, 'the config part overrides the module');
  t.equal((await invoke(app, 'hello')).json().greeting, 'Hello, world');
});

t.test('a zip archive carrying its own node_modules is bundled', async (t) => {
  const app = await startWisp(t);
  const res = await deploy(app, 'zipped', zip(projectWithDependency), 'application/zip');
  t.equal(res.statusCode, 201, res.body);
  t.same((await invoke(app, 'zipped', { text: 'hi' })).json(), { out: 'HI!' });
});

t.test('a tar.gz archive of a folder, sent as octet-stream, is recognised and bundled', async (t) => {
  const app = await startWisp(t);
  const inFolder = Object.fromEntries(Object.entries(projectWithDependency).map(([path, text]) => [`project/${path}`, text]));
  const res = await deploy(app, 'tarred', (await tarGz(inFolder)), 'application/octet-stream');
  t.equal(res.statusCode, 201, res.body);
  t.same((await invoke(app, 'tarred', { text: 'yo' })).json(), { out: 'YO!' });
});

t.test('an archive entry can be named by package.json main', async (t) => {
  const app = await startWisp(t);
  const files = { 'package.json': '{"main": "src/fn.js"}', 'src/fn.js': 'module.exports = { default: () => "from main" };' };
  const res = await deploy(app, 'withmain', zip(files), 'application/zip');
  t.equal(res.statusCode, 201, res.body);
  t.equal((await invoke(app, 'withmain')).json(), 'from main');
});

t.test('each deploy is a new immutable version; list, get, versions, rollback, delete', async (t) => {
  const app = await startWisp(t);
  await mustDeploy(t, app, 'counter', 'export default () => "v1";');
  await mustDeploy(t, app, 'counter', 'export default () => "v2";');
  await mustDeploy(t, app, 'other', 'export default () => 0;');
  t.equal((await invoke(app, 'counter')).json(), 'v2');
  t.equal((await invoke(app, 'counter', null, '?version=1')).json(), 'v1', 'an old version can still be called');

  const list = (await app.inject('/v1/functions')).json();
  t.same(list.functions.map((f: { name: string }) => f.name), ['counter', 'other']);

  const one = (await app.inject('/v1/functions/counter')).json();
  t.match(one, { name: 'counter', activeVersion: 2, latestVersion: 2 });

  const versions = (await app.inject('/v1/functions/counter/versions')).json().versions;
  t.same(versions.map((v: { version: number }) => v.version), [1, 2]);
  t.not(versions[0].digest, versions[1].digest);

  const rolled = await app.inject({ method: 'PATCH', url: '/v1/functions/counter', payload: { activeVersion: 1 } });
  t.equal(rolled.statusCode, 200);
  t.equal(rolled.json().activeVersion, 1);
  t.equal((await invoke(app, 'counter')).json(), 'v1', 'rollback changes what is served');

  await mustDeploy(t, app, 'counter', 'export default () => "v3";');
  t.equal((await invoke(app, 'counter')).json(), 'v3', 'a new deploy becomes active');

  assertProblem(t, await app.inject({ method: 'PATCH', url: '/v1/functions/counter', payload: { activeVersion: 9 } }), 404, 'VERSION_NOT_FOUND');
  assertProblem(t, await app.inject({ method: 'PATCH', url: '/v1/functions/counter', payload: { activeVersion: 'x' } }), 400, 'INVALID_REQUEST');
  assertProblem(t, await app.inject({ method: 'PATCH', url: '/v1/functions/nope', payload: { activeVersion: 1 } }), 404, 'FUNCTION_NOT_FOUND');

  const del = await app.inject({ method: 'DELETE', url: '/v1/functions/counter' });
  t.equal(del.statusCode, 204);
  t.equal(del.body, '');
  assertProblem(t, await invoke(app, 'counter'), 404, 'FUNCTION_NOT_FOUND');
  assertProblem(t, await app.inject('/v1/functions/counter'), 404, 'FUNCTION_NOT_FOUND');
  assertProblem(t, await app.inject('/v1/functions/counter/versions'), 404, 'FUNCTION_NOT_FOUND');
  assertProblem(t, await app.inject({ method: 'DELETE', url: '/v1/functions/counter' }), 404, 'FUNCTION_NOT_FOUND');

  const again = await mustDeploy(t, app, 'counter', 'export default () => "fresh";');
  t.equal(again.version, 1, 'a deleted name starts again at version 1');
});
