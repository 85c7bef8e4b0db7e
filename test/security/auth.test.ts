// Bearer tokens and scopes: 401 without a token or with an unknown one, 403 below the route's
// scope, and the routes that stay open.
import t, { type Test } from 'tap';
import { createHmac } from 'node:crypto';
import { hashToken } from '../../dist/auth/tokens.js';
import { assertProblem, startWisp, type App } from '../helpers/wisp.js';

const TOKENS = {
  admin: 'admin-token-0123456789abcdef',
  deploy: 'deploy-token-0123456789abcdef',
  invoke: 'invoke-token-0123456789abcdef',
};

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

async function startSecured(t: Test, auth: { metricsOpen?: boolean } = {}): Promise<App> {
  const tokens = Object.entries(TOKENS).map(([scope, token]) => ({ name: `${scope}-test`, scope: scope as 'admin', sha256: hashToken(token) }));
  return startWisp(t, { auth: { tokens, metricsOpen: auth.metricsOpen ?? false } });
}

const HELLO = 'export default (input: { name?: string }) => ({ hi: input?.name ?? "world" });\n';
const FETCHER = (isPublic: boolean) => `export const config = { public: ${isPublic} };\nexport default { fetch: () => new Response("raw ok") };\n`;

async function deployAs(app: App, token: string, name: string, source: string) {
  return app.inject({ method: 'PUT', url: `/v1/functions/${name}`, headers: { ...bearer(token), 'content-type': 'application/typescript' }, payload: source });
}

t.test('a missing token is 401 TOKEN_REQUIRED with a Bearer challenge', async (t) => {
  const app = await startSecured(t);
  const res = await app.inject({ method: 'GET', url: '/v1/functions' });
  const body = assertProblem(t, res, 401, 'TOKEN_REQUIRED');
  t.match(body.detail, /scope deploy/);
  t.equal(res.headers['www-authenticate'], 'Bearer realm="wisp"');
});

t.test('an unknown token, or a header that is not Bearer, is 401 INVALID_TOKEN', async (t) => {
  const app = await startSecured(t);
  const unknown = await app.inject({ method: 'GET', url: '/v1/functions', headers: bearer('not-a-token-we-know-of') });
  assertProblem(t, unknown, 401, 'INVALID_TOKEN');
  t.match(unknown.headers['www-authenticate'], /error="invalid_token"/);
  const basic = await app.inject({ method: 'GET', url: '/v1/functions', headers: { authorization: 'Basic dXNlcjpwYXNz' } });
  t.match(assertProblem(t, basic, 401, 'INVALID_TOKEN').detail, /Bearer <token>/);
  // The token's text is never echoed back.
  t.notMatch(unknown.body, /not-a-token-we-know-of/);
});

t.test('scopes nest: admin > deploy > invoke', async (t) => {
  const app = await startSecured(t);
  const denied = await deployAs(app, TOKENS.invoke, 'hello', HELLO);
  const body = assertProblem(t, denied, 403, 'INSUFFICIENT_SCOPE');
  t.match(body.detail, /needs scope deploy.*"invoke-test" has scope invoke/);
  t.match(denied.headers['www-authenticate'], /error="insufficient_scope", scope="deploy"/);

  t.equal((await deployAs(app, TOKENS.deploy, 'hello', HELLO)).statusCode, 201, 'deploy may deploy');
  t.equal((await deployAs(app, TOKENS.admin, 'hello', HELLO)).statusCode, 201, 'admin may deploy');

  for (const token of Object.values(TOKENS)) {
    const res = await app.inject({ method: 'POST', url: '/v1/functions/hello/invoke', headers: { ...bearer(token), 'content-type': 'application/json' }, payload: '{"name":"a"}' });
    t.same(res.json(), { hi: 'a' }, 'every scope may invoke');
  }
  const submitted = await app.inject({ method: 'POST', url: '/v1/functions/hello/invocations', headers: { ...bearer(TOKENS.invoke), 'content-type': 'application/json' }, payload: '{}' });
  t.equal(submitted.statusCode, 202, 'invoke may submit asynchronously');
  const read = await app.inject({ method: 'GET', url: `/v1/invocations/${submitted.json().id}?wait=5`, headers: bearer(TOKENS.invoke) });
  t.equal(read.json().status, 'succeeded', 'invoke may read invocations');

  assertProblem(t, await app.inject({ method: 'GET', url: '/v1/functions', headers: bearer(TOKENS.invoke) }), 403, 'INSUFFICIENT_SCOPE');
  assertProblem(t, await app.inject({ method: 'POST', url: '/v1/groups', headers: bearer(TOKENS.invoke), payload: {} }), 403, 'INSUFFICIENT_SCOPE');
  assertProblem(t, await app.inject({ method: 'GET', url: '/v1/node', headers: bearer(TOKENS.deploy) }), 403, 'INSUFFICIENT_SCOPE');
  t.equal((await app.inject({ method: 'GET', url: '/v1/node', headers: bearer(TOKENS.admin) })).statusCode, 200, 'only admin reads the node');
});

t.test('/healthz and /docs are open; /hooks/{id} answers by signature, not token', async (t) => {
  const app = await startSecured(t);
  t.equal((await app.inject('/healthz')).statusCode, 200);
  t.equal((await app.inject('/docs/json')).statusCode, 200);
  await deployAs(app, TOKENS.deploy, 'hello', HELLO);
  const created = await app.inject({ method: 'POST', url: '/v1/functions/hello/triggers', headers: bearer(TOKENS.deploy), payload: { type: 'webhook', scheme: 'github', secret: 'webhook-secret-123' } });
  t.equal(created.statusCode, 201);
  const url = created.json().url as string;
  const body = '{"zen":"hi"}';
  const signature = `sha256=${createHmac('sha256', 'webhook-secret-123').update(body).digest('hex')}`;
  const delivered = await app.inject({ method: 'POST', url, headers: { 'content-type': 'application/json', 'x-hub-signature-256': signature, 'x-github-delivery': 'd-1' }, payload: body });
  t.equal(delivered.statusCode, 202, 'a signed delivery needs no token');
  assertProblem(t, await app.inject({ method: 'POST', url, headers: { 'content-type': 'application/json' }, payload: body }), 401, 'INVALID_SIGNATURE');
});

t.test('/fn/{name} is open only for functions deployed public: true', async (t) => {
  const app = await startSecured(t);
  await deployAs(app, TOKENS.deploy, 'open-site', FETCHER(true));
  await deployAs(app, TOKENS.deploy, 'closed-site', FETCHER(false));
  const open = await app.inject('/fn/open-site/page');
  t.equal(open.statusCode, 200);
  t.equal(open.body, 'raw ok');
  assertProblem(t, await app.inject('/fn/closed-site'), 401, 'TOKEN_REQUIRED');
  t.equal((await app.inject({ url: '/fn/closed-site', headers: bearer(TOKENS.invoke) })).body, 'raw ok');
  // An unknown function is not told apart from a private one.
  assertProblem(t, await app.inject('/fn/no-such-site'), 401, 'TOKEN_REQUIRED');
});

t.test('public is checked at deploy', async (t) => {
  const app = await startSecured(t);
  const res = await deployAs(app, TOKENS.deploy, 'odd', 'export const config = { public: "yes" };\nexport default () => 1;\n');
  t.match(assertProblem(t, res, 400, 'INVALID_CONFIG').detail, /config.public must be true or false/);
});

t.test('/metrics needs a token unless auth.metricsOpen is set', async (t) => {
  const closed = await startSecured(t);
  assertProblem(t, await closed.inject('/metrics'), 401, 'TOKEN_REQUIRED');
  const scraped = await closed.inject({ url: '/metrics', headers: bearer(TOKENS.invoke) });
  t.equal(scraped.statusCode, 200);
  t.match(scraped.body, /# TYPE wisp_calls_total counter/);
  const open = await startSecured(t, { metricsOpen: true });
  t.equal((await open.inject('/metrics')).statusCode, 200);
});

t.test('with no tokens configured (loopback only) no route asks for one', async (t) => {
  const app = await startWisp(t);
  t.equal((await app.inject('/v1/functions')).statusCode, 200);
  t.equal((await app.inject('/v1/node')).statusCode, 200);
  t.equal((await app.inject('/metrics')).statusCode, 200);
});

t.test('a route added without an access rule fails at once, not open by accident', async (t) => {
  const app = await startWisp(t);
  t.throws(() => app.get('/v2/secret-things', async () => 'x'), /route GET \/v2\/secret-things has no access rule in auth\/route-access.ts/);
});
