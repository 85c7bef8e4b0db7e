// Raw HTTP at /fn/{name} and /fn/{name}/*.
import t from 'tap';
import { assertProblem, mustDeploy, startWisp } from '../helpers/wisp.js';

const fetchHandler = `
export default {
  async fetch(request: Request, ctx: { function: string }) {
    const url = new URL(request.url);
    const body = request.method === 'GET' || request.method === 'HEAD' ? '' : await request.text();
    const headers = new Headers({ 'x-fn': ctx.function, 'content-type': 'application/x-report' });
    headers.append('set-cookie', 'a=1');
    headers.append('set-cookie', 'b=2');
    return new Response(JSON.stringify({ method: request.method, path: url.pathname, query: url.search, body, agent: request.headers.get('x-agent') }), { status: 201, headers });
  },
};`;

t.test('a fetch handler gets a standard Request and its Response goes back', async (t) => {
  const app = await startWisp(t);
  await mustDeploy(t, app, 'web', fetchHandler);
  const res = await app.inject({ method: 'PUT', url: '/fn/web/items/7?x=1', headers: { 'x-agent': 'tests', 'content-type': 'text/plain' }, payload: 'raw body' });
  t.equal(res.statusCode, 201);
  t.equal(res.headers['x-fn'], 'web');
  t.equal(res.headers['content-type'], 'application/x-report');
  t.same(res.headers['set-cookie'], ['a=1', 'b=2'], 'repeated headers survive');
  t.match(res.headers['x-invocation-id'], /^[0-9a-f-]{36}$/);
  t.same(res.json(), { method: 'PUT', path: '/fn/web/items/7', query: '?x=1', body: 'raw body', agent: 'tests' });

  const root = await app.inject({ method: 'GET', url: '/fn/web' });
  t.equal(root.statusCode, 201);
  t.match(root.json(), { method: 'GET', path: '/fn/web', body: '' });
});

t.test('binary bodies pass through unchanged both ways', async (t) => {
  const app = await startWisp(t);
  await mustDeploy(t, app, 'bin', 'export default { async fetch(r: Request) { const b = new Uint8Array(await r.arrayBuffer()); return new Response(b.reverse(), { headers: { "content-type": "application/octet-stream" } }); } };');
  const bytes = Buffer.from([0, 1, 2, 255, 254, 0x1f, 0x8b]);
  const res = await app.inject({ method: 'POST', url: '/fn/bin', headers: { 'content-type': 'application/octet-stream' }, payload: bytes });
  t.equal(res.statusCode, 200);
  t.same([...res.rawPayload], [...bytes].reverse());
});

t.test('a JSON handler at /fn gets the parsed body, or its text', async (t) => {
  const app = await startWisp(t);
  await mustDeploy(t, app, 'json', 'export default (input: unknown) => ({ input });');
  const json = await app.inject({ method: 'POST', url: '/fn/json/anything', headers: { 'content-type': 'application/json' }, payload: '{"n":1}' });
  t.equal(json.statusCode, 200);
  t.same(json.json(), { input: { n: 1 } });
  const text = await app.inject({ method: 'POST', url: '/fn/json', headers: { 'content-type': 'text/plain' }, payload: 'plain words' });
  t.same(text.json(), { input: 'plain words' });
  t.same((await app.inject({ method: 'GET', url: '/fn/json' })).json(), { input: null });
  assertProblem(t, await app.inject({ method: 'POST', url: '/fn/json', headers: { 'content-type': 'application/json' }, payload: '{oops' }), 400, 'INVALID_JSON');
});

t.test('errors at /fn are problem details too', async (t) => {
  const app = await startWisp(t, { limits: { requestBodyBytes: 100 } });
  assertProblem(t, await app.inject('/fn/ghost'), 404, 'FUNCTION_NOT_FOUND');
  await mustDeploy(t, app, 'bad', 'export default { fetch: () => "not a response" };');
  t.match(assertProblem(t, await app.inject('/fn/bad'), 500, 'FUNCTION_ERROR').detail, /must return a Response/);
  await mustDeploy(t, app, 'boom', 'export default { fetch: () => { throw new Error("kaput"); } };');
  t.match(assertProblem(t, await app.inject('/fn/boom/x'), 500, 'FUNCTION_ERROR').detail, /Error: kaput/);
  assertProblem(t, await app.inject({ method: 'POST', url: '/fn/boom', payload: 'x'.repeat(500), headers: { 'content-type': 'text/plain' } }), 413, 'PAYLOAD_TOO_LARGE');
});
