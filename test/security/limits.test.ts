// Limits, each with its own code: body, upload, headers, slow clients (slowloris), the per-token
// rate limit, and load shedding. (Result size: test/gateway/invoke.test.ts.)
import t, { type Test } from 'tap';
import { connect, type Socket } from 'node:net';
import { once } from 'node:events';
import { hashToken } from '../../dist/auth/tokens.js';
import { assertProblem, deploy, startWisp, type App } from '../helpers/wisp.js';
import type { ConfigOverrides } from '../../dist/config.js';

async function listening(t: Test, overrides: ConfigOverrides): Promise<{ app: App; port: number }> {
  const app = await startWisp(t, overrides);
  await app.listen({ host: '127.0.0.1', port: 0 });
  return { app, port: (app.server.address() as { port: number }).port };
}

/** Opens a connection and sends the start of a request that never ends. */
async function halfOpen(port: number): Promise<{ socket: Socket; answer: Promise<string> }> {
  const socket = connect(port, '127.0.0.1');
  await once(socket, 'connect');
  socket.write('GET /healthz HTTP/1.1\r\nHost: localhost\r\nX-Slow: ');
  let received = '';
  socket.on('data', (chunk) => (received += chunk));
  socket.on('error', () => {});
  const answer = once(socket, 'close').then(() => received);
  return { socket, answer };
}

t.test('request body and upload limits have their own codes', async (t) => {
  const app = await startWisp(t, { limits: { requestBodyBytes: 1024, uploadBytes: 4096 } });
  await deploy(app, 'echo', 'export default (input) => input;\n');
  const body = await app.inject({ method: 'POST', url: '/v1/functions/echo/invoke', headers: { 'content-type': 'application/json' }, payload: JSON.stringify({ s: 'x'.repeat(2000) }) });
  t.match(assertProblem(t, body, 413, 'PAYLOAD_TOO_LARGE').detail, /limits.requestBodyBytes/);
  const upload = await deploy(app, 'big', `export default () => "${'x'.repeat(5000)}";\n`);
  t.match(assertProblem(t, upload, 413, 'UPLOAD_TOO_LARGE').detail, /limits.uploadBytes \(4096 bytes\)/);
});

t.test('headers past limits.headerBytes are 431 HEADERS_TOO_LARGE', async (t) => {
  const { port } = await listening(t, { limits: { headerBytes: 2048 } });
  const res = await fetch(`http://127.0.0.1:${port}/healthz`, { headers: { 'x-big': 'y'.repeat(4096) } });
  t.equal(res.status, 431);
  t.match(res.headers.get('content-type'), /application\/problem\+json/);
  t.equal(((await res.json()) as { code: string }).code, 'HEADERS_TOO_LARGE');
  t.equal((await fetch(`http://127.0.0.1:${port}/healthz`)).status, 200, 'the next request is served');
});

t.test('200 slowloris connections neither block others nor stay past headersTimeoutMs', async (t) => {
  const { port } = await listening(t, { limits: { headersTimeoutMs: 1000 } });
  const slow = await Promise.all(Array.from({ length: 200 }, () => halfOpen(port)));
  t.teardown(() => slow.forEach(({ socket }) => socket.destroy()));
  const served = await Promise.all(Array.from({ length: 20 }, () => fetch(`http://127.0.0.1:${port}/healthz`).then((res) => res.status)));
  t.same(served, Array(20).fill(200), 'others are served while 200 connections dawdle');
  const answers = await Promise.all(slow.map(({ answer }) => answer));
  t.equal(answers.filter((text) => /^HTTP\/1.1 408 /.test(text) && text.includes('"code":"REQUEST_TIMEOUT"')).length, 200, 'each slow connection got 408 REQUEST_TIMEOUT and was closed');
});

t.test('a body that never finishes is cut at requestTimeoutMs', async (t) => {
  const { port } = await listening(t, { limits: { headersTimeoutMs: 500, requestTimeoutMs: 1000 } });
  const socket = connect(port, '127.0.0.1');
  await once(socket, 'connect');
  socket.write('POST /v1/functions/x/invoke HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"a":');
  let received = '';
  socket.on('data', (chunk) => (received += chunk));
  await once(socket, 'close');
  t.match(received, /^HTTP\/1.1 408 .*"code":"REQUEST_TIMEOUT"/s);
});

t.test('headersTimeoutMs may not be longer than requestTimeoutMs', async (t) => {
  await t.rejects(startWisp(t, { limits: { headersTimeoutMs: 5000, requestTimeoutMs: 1000 } }), /headersTimeoutMs \(5000\) must not be more than limits.requestTimeoutMs/);
});

t.test('the rate limit counts per token and answers 429 RATE_LIMITED with Retry-After', async (t) => {
  const tokens = ['alpha', 'bravo'].map((name) => ({ name, scope: 'admin' as const, sha256: hashToken(`${name}-token-0123456789`) }));
  const app = await startWisp(t, { auth: { tokens, metricsOpen: false }, limits: { rateLimit: { max: 3, windowMs: 60_000 } } });
  const as = (name: string) => app.inject({ url: '/v1/functions', headers: { authorization: `Bearer ${name}-token-0123456789` } });
  for (let i = 0; i < 3; i++) t.equal((await as('alpha')).statusCode, 200);
  const limited = await as('alpha');
  const body = assertProblem(t, limited, 429, 'RATE_LIMITED');
  t.match(body.detail, /token "alpha" sent more than 3 requests in 60000 ms/);
  t.ok(Number(limited.headers['retry-after']) >= 1 && Number(limited.headers['retry-after']) <= 60, `Retry-After: ${limited.headers['retry-after']}`);
  t.equal((await as('bravo')).statusCode, 200, 'another token has its own budget');
  for (let i = 0; i < 5; i++) t.equal((await app.inject('/healthz')).statusCode, 200, 'health checks are not counted');
});

t.test('without tokens the rate limit counts per client address', async (t) => {
  const app = await startWisp(t, { limits: { rateLimit: { max: 2, windowMs: 60_000 } } });
  const from = (ip: string) => app.inject({ url: '/v1/functions', remoteAddress: ip });
  t.equal((await from('10.0.0.1')).statusCode, 200);
  t.equal((await from('10.0.0.1')).statusCode, 200);
  t.match(assertProblem(t, await from('10.0.0.1'), 429, 'RATE_LIMITED').detail, /address 10.0.0.1/);
  t.equal((await from('10.0.0.2')).statusCode, 200);
});

/** under-pressure samples on a timer; wait for the sample that shows the pressure. */
async function pressureSeen(app: App, seen: (usage: { heapUsed: number; eventLoopDelay: number }) => boolean): Promise<void> {
  const usage = () => (app as unknown as { memoryUsage(): { heapUsed: number; eventLoopDelay: number } }).memoryUsage();
  while (!seen(usage())) await new Promise((resolve) => setTimeout(resolve, 50));
}

t.test('memory pressure sheds load: 503 OVERLOADED with Retry-After; /healthz and /metrics still answer', async (t) => {
  const app = await startWisp(t, { pressure: { maxHeapUsedBytes: 1024, maxEventLoopDelayMs: null, maxRssBytes: null, retryAfterSeconds: 7 } });
  await pressureSeen(app, (usage) => usage.heapUsed > 0);
  const shed = await app.inject('/v1/functions');
  t.match(assertProblem(t, shed, 503, 'OVERLOADED').detail, /heap is past pressure.maxHeapUsedBytes/);
  t.equal(shed.headers['retry-after'], '7');
  t.equal((await app.inject('/healthz')).statusCode, 200);
  t.equal((await app.inject('/metrics')).statusCode, 200);
});

t.test('a blocked event loop sheds load until it recovers', async (t) => {
  const app = await startWisp(t, { pressure: { maxEventLoopDelayMs: 100, maxHeapUsedBytes: null, maxRssBytes: null, retryAfterSeconds: 1 } });
  const until = Date.now() + 1500;
  while (Date.now() < until); // the gateway thread is stuck, as a runaway sync handler would leave it
  await pressureSeen(app, (usage) => usage.eventLoopDelay > 100);
  t.match(assertProblem(t, await app.inject('/v1/functions'), 503, 'OVERLOADED').detail, /event loop is delayed/);
  await pressureSeen(app, (usage) => usage.eventLoopDelay <= 100);
  t.equal((await app.inject('/v1/functions')).statusCode, 200, 'served again once the loop recovers');
});

t.test('URLs the router cannot take apart are problem details; a 128-character group name is routed', async (t) => {
  const app = await startWisp(t);
  t.match(assertProblem(t, await app.inject('/v1/functions/%ff%fe'), 400, 'INVALID_REQUEST').detail, /percent-encoded UTF-8/);
  assertProblem(t, await app.inject(`/v1/groups/${'g'.repeat(201)}`), 414, 'PATH_TOO_LONG');
  assertProblem(t, await app.inject(`/v1/groups/${'g'.repeat(128)}`), 404, 'GROUP_NOT_FOUND');
});

t.test('a malformed multipart deploy is 400, not a server error', async (t) => {
  const app = await startWisp(t);
  const res = await app.inject({ method: 'PUT', url: '/v1/functions/x', headers: { 'content-type': 'multipart/form-data; boundary=xyz' }, payload: '--xyz\r\nContent-Disposition: form-data; name="code"' });
  t.match(assertProblem(t, res, 400, 'INVALID_REQUEST').detail, /the multipart body cannot be read/);
  const noBoundary = await app.inject({ method: 'PUT', url: '/v1/functions/x', headers: { 'content-type': 'multipart/form-data' }, payload: 'abc' });
  t.match(assertProblem(t, noBoundary, 400, 'INVALID_REQUEST').detail, /Boundary not found/);
});
