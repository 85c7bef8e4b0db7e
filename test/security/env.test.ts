// Function secrets: set at deploy or through /env, given to calls as ctx.env, never answered,
// masked in errors and logs, and kept in owner-only files.
import t from 'tap';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { multipartBody } from '../helpers/archives.js';
import { callMethod, mustCreate, roomy } from '../helpers/instances.js';
import { assertProblem, invoke, mustDeploy, startWisp, type App } from '../helpers/wisp.js';
import { tempDir } from '../helpers/temp-dir.js';

const SECRET = 'sk_live_0123456789abcdef';
const READER = `
export default async (input: { op?: string }, ctx) => {
  if (input?.op === 'throw') throw new Error('could not use key ' + ctx.env.API_KEY);
  if (input?.op === 'log') { console.log('using', ctx.env.API_KEY); return 'logged'; }
  return { names: Object.keys(ctx.env).sort(), apiKey: ctx.env.API_KEY ?? null };
};
export class Holder {
  key() { return this.ctx.env.API_KEY ?? null; }
  leak() { throw new Error('bad key ' + this.ctx.env.API_KEY); }
}
`;

function patchEnv(app: App, name: string, body: unknown) {
  return app.inject({ method: 'PATCH', url: `/v1/functions/${name}/env`, payload: body as object });
}

/** Every answer Wisp gives about the function, joined: none may hold the secret. */
async function everythingShown(app: App, name: string): Promise<string> {
  const urls = [`/v1/functions/${name}`, '/v1/functions', `/v1/functions/${name}/versions`, `/v1/functions/${name}/env`, '/v1/invocations?limit=100'];
  const bodies = await Promise.all(urls.map((url) => app.inject(url).then((res) => res.body)));
  return bodies.join('\n');
}

t.test('env set through PATCH reaches ctx.env and is never answered', async (t) => {
  const app = await startWisp(t);
  await mustDeploy(t, app, 'reader', READER);
  t.same((await invoke(app, 'reader')).json(), { names: [], apiKey: null }, 'empty until set');
  const set = await patchEnv(app, 'reader', { API_KEY: SECRET, REGION: 'eu-north-1' });
  t.equal(set.statusCode, 200);
  t.same(set.json().env.map((e: { name: string }) => e.name), ['API_KEY', 'REGION']);
  t.notMatch(set.body, SECRET, 'the PATCH answer names, does not show');
  t.same((await invoke(app, 'reader')).json(), { names: ['API_KEY', 'REGION'], apiKey: SECRET }, 'the next call sees them');

  t.equal((await patchEnv(app, 'reader', { REGION: null })).json().env.length, 1, 'null deletes');
  t.equal((await app.inject({ method: 'DELETE', url: '/v1/functions/reader/env/API_KEY' })).statusCode, 204);
  t.same((await invoke(app, 'reader')).json(), { names: [], apiKey: null });
  assertProblem(t, await app.inject({ method: 'DELETE', url: '/v1/functions/reader/env/API_KEY' }), 404, 'ENV_NOT_FOUND');
});

t.test('env in the deploy config is stored apart from the version', async (t) => {
  const app = await startWisp(t);
  const { payload, contentType } = multipartBody(READER, 'reader.ts', JSON.stringify({ timeoutMs: 5000, env: { API_KEY: SECRET } }));
  const res = await app.inject({ method: 'PUT', url: '/v1/functions/reader', headers: { 'content-type': contentType }, payload });
  t.equal(res.statusCode, 201, res.body);
  t.equal(res.json().config.timeoutMs, 5000);
  t.notOk('env' in res.json().config, 'the version config has no env');
  t.equal((await invoke(app, 'reader')).json().apiKey, SECRET);
  t.notMatch(await everythingShown(app, 'reader'), SECRET);
});

t.test('a secret a function leaks into an error or a log line is masked', async (t) => {
  const app = await startWisp(t);
  await mustDeploy(t, app, 'reader', READER);
  await patchEnv(app, 'reader', { API_KEY: SECRET });
  const thrown = await invoke(app, 'reader', { op: 'throw' });
  const problem = assertProblem(t, thrown, 500, 'FUNCTION_ERROR');
  t.match(problem.detail, /could not use key \[redacted\]/);
  t.notMatch(thrown.body, SECRET, 'not in the detail nor the stack');
  const logged = await invoke(app, 'reader', { op: 'log' });
  const logs = await app.inject(`/v1/invocations/${logged.headers['x-invocation-id']}/logs`);
  t.match(logs.body, /using \[redacted\]/);
  t.notMatch(logs.body, SECRET);
  const failed = await app.inject(`/v1/invocations/${thrown.headers['x-invocation-id']}`);
  t.notMatch(failed.body, SECRET, 'nor in the invocation record');
});

t.test('an instance sees the env as this.ctx.env', async (t) => {
  const app = await startWisp(t, roomy);
  await mustDeploy(t, app, 'reader', READER);
  await patchEnv(app, 'reader', { API_KEY: SECRET });
  const id = await mustCreate(t, app, 'reader', { class: 'Holder' });
  t.equal((await callMethod(app, id, 'key')).json(), SECRET);
  const leaked = await callMethod(app, id, 'leak');
  t.match(assertProblem(t, leaked, 500, 'METHOD_ERROR').detail, /bad key \[redacted\]/);
  t.notMatch(leaked.body, SECRET);
});

t.test('bad env is refused with a message that does not quote the value', async (t) => {
  const app = await startWisp(t);
  await mustDeploy(t, app, 'reader', READER);
  t.match(assertProblem(t, await patchEnv(app, 'reader', { 'BAD-NAME': 'x' }), 400, 'INVALID_ENV').detail, /must match/);
  const wrongType = await patchEnv(app, 'reader', { API_KEY: 12345678 });
  t.match(assertProblem(t, wrongType, 400, 'INVALID_ENV').detail, /value of API_KEY must be a string/);
  t.notMatch(wrongType.body, '12345678');
  t.match(assertProblem(t, await patchEnv(app, 'reader', ['x']), 400, 'INVALID_ENV').detail, /must be an object/);
  t.match(assertProblem(t, await patchEnv(app, 'reader', { BIG: 'x'.repeat(70_000) }), 400, 'INVALID_ENV').detail, /65536 bytes/);
  assertProblem(t, await patchEnv(app, 'nobody', { A: 'b' }), 404, 'FUNCTION_NOT_FOUND');
  assertProblem(t, await app.inject('/v1/functions/nobody/env'), 404, 'FUNCTION_NOT_FOUND');
  const { payload, contentType } = multipartBody(READER, 'reader.ts', JSON.stringify({ env: { 'no spaces': 'x' } }));
  assertProblem(t, await app.inject({ method: 'PUT', url: '/v1/functions/other', headers: { 'content-type': contentType }, payload }), 400, 'INVALID_ENV');
  assertProblem(t, await app.inject('/v1/functions/other'), 404, 'FUNCTION_NOT_FOUND');
});

t.test('deleting the function deletes its env; a new function of that name starts empty', async (t) => {
  const app = await startWisp(t);
  await mustDeploy(t, app, 'reader', READER);
  await patchEnv(app, 'reader', { API_KEY: SECRET });
  t.equal((await app.inject({ method: 'DELETE', url: '/v1/functions/reader' })).statusCode, 204);
  await mustDeploy(t, app, 'reader', READER);
  t.same((await invoke(app, 'reader')).json(), { names: [], apiKey: null });
});

t.test('env survives a restart; the files holding it are owner-only', async (t) => {
  const dataDir = tempDir();
  const first = await startWisp(t, {}, dataDir);
  await mustDeploy(t, first, 'reader', READER);
  await patchEnv(first, 'reader', { API_KEY: SECRET });
  await first.close();
  const second = await startWisp(t, {}, dataDir);
  t.equal((await invoke(second, 'reader')).json().apiKey, SECRET);
  t.equal(statSync(dataDir).mode & 0o777, 0o700, 'the data dir');
  for (const file of readdirSync(dataDir).filter((f) => f.startsWith('wisp.db'))) {
    t.equal(statSync(join(dataDir, file)).mode & 0o077, 0, `${file} is not readable by group or others`);
  }
});
