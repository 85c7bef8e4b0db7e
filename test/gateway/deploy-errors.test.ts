// Bad deploys get a clear 4xx and leave the previous version serving.
import t from 'tap';
import { multipartBody, zip } from '../helpers/archives.js';
import { assertProblem, deploy, invoke, mustDeploy, startWisp } from '../helpers/wisp.js';

t.test('a bad name is 400 INVALID_NAME on every function route', async (t) => {
  const app = await startWisp(t);
  for (const name of ['Hello', '1abc', 'a_b', 'x'.repeat(64), '%C3%A9t%C3%A9', '..%2F..%2Fetc']) {
    const body = assertProblem(t, await deploy(app, name, 'export default () => 1'), 400, 'INVALID_NAME');
    t.match(body.detail, /lowercase letters, digits and "-"/);
  }
  assertProblem(t, await invoke(app, 'Bad'), 400, 'INVALID_NAME');
  assertProblem(t, await app.inject('/v1/functions/Bad/versions'), 400, 'INVALID_NAME');
  assertProblem(t, await app.inject('/fn/Bad'), 400, 'INVALID_NAME');
});

t.test('an empty upload is 400 EMPTY_UPLOAD', async (t) => {
  const app = await startWisp(t);
  assertProblem(t, await deploy(app, 'empty', ''), 400, 'EMPTY_UPLOAD');
  const { payload, contentType } = multipartBody('', 'fn.ts');
  assertProblem(t, await app.inject({ method: 'PUT', url: '/v1/functions/empty', headers: { 'content-type': contentType }, payload }), 400, 'EMPTY_UPLOAD');
});

t.test('an oversized upload is 413, at the configured limit', async (t) => {
  const app = await startWisp(t, { limits: { uploadBytes: 1024 } });
  const big = `export default () => "${'x'.repeat(2000)}";`;
  assertProblem(t, await deploy(app, 'big', big), 413, 'UPLOAD_TOO_LARGE');
  const { payload, contentType } = multipartBody(big, 'big.ts');
  assertProblem(t, await app.inject({ method: 'PUT', url: '/v1/functions/big', headers: { 'content-type': contentType }, payload }), 413, 'UPLOAD_TOO_LARGE');
  t.equal((await deploy(app, 'small', 'export default () => 1')).statusCode, 201, 'under the limit is fine');
});

t.test('an unsupported content type is 415', async (t) => {
  const app = await startWisp(t);
  assertProblem(t, await deploy(app, 'img', 'export default 1', 'image/png'), 415, 'UNSUPPORTED_MEDIA_TYPE');
  const json = assertProblem(t, await deploy(app, 'js', '{"code": "x"}', 'application/json'), 415, 'UNSUPPORTED_MEDIA_TYPE');
  t.match(json.detail, /--data-binary/);
});

t.test('a syntax error is 400 INVALID_FUNCTION with file, line and column', async (t) => {
  const app = await startWisp(t);
  const body = assertProblem(t, await deploy(app, 'broken', 'const a = 1;\nexport default function (x {\n  return x;\n}'), 400, 'INVALID_FUNCTION');
  t.match(body, { file: 'broken.ts', line: 2 });
  t.type(body.column, 'number');
  t.match(body.detail, /^broken\.ts:2:\d+: /);
});

t.test('a failing import is 400 INVALID_FUNCTION that says what to do', async (t) => {
  const app = await startWisp(t);
  const pkg = assertProblem(t, await deploy(app, 'imp', 'import leftPad from "left-pad";\nexport default () => leftPad("a", 3);'), 400, 'INVALID_FUNCTION');
  t.match(pkg.detail, /Could not resolve "left-pad".*node_modules/);
  t.equal(pkg.line, 1);
  const rel = assertProblem(t, await deploy(app, 'imp', 'import x from "./other.js";\nexport default () => x;'), 400, 'INVALID_FUNCTION');
  t.match(rel.detail, /single-file upload cannot import other files/);
  // The data dir is inside this checkout, whose node_modules has fflate: the upload must not find it.
  const servers = assertProblem(t, await deploy(app, 'imp', 'import { zipSync } from "fflate";\nexport default () => typeof zipSync;'), 400, 'INVALID_FUNCTION');
  t.match(servers.detail, /Could not resolve "fflate"/, "Wisp's own packages are not the upload's");
  const builtin = assertProblem(t, await deploy(app, 'imp', 'import nope from "node:nope";\nexport default () => nope;'), 400, 'INVALID_FUNCTION');
  t.match(builtin.detail, /node:nope/);
});

t.test('a module without a handler is 400 INVALID_FUNCTION', async (t) => {
  const app = await startWisp(t);
  const body = assertProblem(t, await deploy(app, 'nohandler', 'export const x = 1;'), 400, 'INVALID_FUNCTION');
  t.match(body.detail, /exports no handler/);
});

t.test('a throwing top level is 400 INVALID_FUNCTION at its source line', async (t) => {
  const app = await startWisp(t);
  const source = 'const ok = 1;\nconst settings: { port: number } = JSON.parse("{");\nexport default () => settings.port + ok;';
  const body = assertProblem(t, await deploy(app, 'throwing', source), 400, 'INVALID_FUNCTION');
  t.match(body.detail, /threw while loading at throwing\.ts:2:\d+: SyntaxError/);
  t.equal(body.line, 2, 'the line is mapped back to the TypeScript source');
});

t.test('an endless loop at top level is stopped at the load deadline', async (t) => {
  const app = await startWisp(t, { functions: { loadTimeoutMs: 300 } });
  const body = assertProblem(t, await deploy(app, 'spin', 'for (;;) {}\nexport default () => 1;'), 400, 'INVALID_FUNCTION');
  t.match(body.detail, /did not finish loading within 300 ms/);
});

t.test('top-level await gets a message that says what to change', async (t) => {
  const app = await startWisp(t);
  const body = assertProblem(t, await deploy(app, 'tla', 'const v = await Promise.resolve(1);\nexport default () => v;'), 400, 'INVALID_FUNCTION');
  t.match(body.detail, /Top-level await.*move the await into the handler/);
});

t.test('bad config is 400 INVALID_CONFIG naming the key', async (t) => {
  const app = await startWisp(t);
  const fromModule = assertProblem(t, await deploy(app, 'cfg', 'export const config = { timeoutMs: -5 };\nexport default () => 1;'), 400, 'INVALID_CONFIG');
  t.match(fromModule.detail, /config\.timeoutMs must be a whole number from 1 to/);
  const unknown = assertProblem(t, await deploy(app, 'cfg', 'export const config = { timeout: 5 };\nexport default () => 1;'), 400, 'INVALID_CONFIG');
  t.match(unknown.detail, /unknown key "timeout"/);
  const { payload, contentType } = multipartBody('export default () => 1', 'cfg.ts', '{not json');
  const part = assertProblem(t, await app.inject({ method: 'PUT', url: '/v1/functions/cfg', headers: { 'content-type': contentType }, payload }), 400, 'INVALID_CONFIG');
  t.match(part.detail, /config part is not valid JSON/);
  const memory = multipartBody('export default () => 1', 'cfg.ts', '{"memoryMb": 999999}');
  assertProblem(t, await app.inject({ method: 'PUT', url: '/v1/functions/cfg', headers: { 'content-type': memory.contentType }, payload: memory.payload }), 400, 'INVALID_CONFIG');
});

t.test('bad archives are 400', async (t) => {
  const app = await startWisp(t);
  const noEntry = assertProblem(t, await deploy(app, 'arch', zip({ 'readme.md': 'hi' }), 'application/zip'), 400, 'INVALID_FUNCTION');
  t.match(noEntry.detail, /no entry module/);
  const escape = assertProblem(t, await deploy(app, 'arch', zip({ '../evil.js': 'x', 'index.js': 'export default 1' }), 'application/zip'), 400, 'INVALID_ARCHIVE');
  t.match(escape.detail, /outside the archive/);
  const corrupt = Buffer.concat([Buffer.from([0x50, 0x4b, 0x03, 0x04]), Buffer.alloc(64, 7)]);
  assertProblem(t, await deploy(app, 'arch', corrupt, 'application/zip'), 400, 'INVALID_ARCHIVE');
  const gzipJunk = Buffer.concat([Buffer.from([0x1f, 0x8b]), Buffer.alloc(64, 3)]);
  assertProblem(t, await deploy(app, 'arch', gzipJunk, 'application/gzip'), 400, 'INVALID_ARCHIVE');
  assertProblem(t, await deploy(app, 'arch', Buffer.from([0xff, 0xfe, 0xfd]), 'application/octet-stream'), 400, 'INVALID_FUNCTION');
});

t.test('after a failed deploy the previous version keeps serving', async (t) => {
  const app = await startWisp(t);
  await mustDeploy(t, app, 'steady', 'export default () => "good";');
  assertProblem(t, await deploy(app, 'steady', 'export default () => {'), 400, 'INVALID_FUNCTION');
  assertProblem(t, await deploy(app, 'steady', 'throw new Error("no");\nexport default () => 1;'), 400, 'INVALID_FUNCTION');
  t.equal((await invoke(app, 'steady')).json(), 'good');
  const fn = (await app.inject('/v1/functions/steady')).json();
  t.match(fn, { activeVersion: 1, latestVersion: 1 }, 'failed deploys take no version number');
});
