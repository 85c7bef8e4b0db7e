// Why a socket to an instance ended, as its close code says: suspend, delete, crash, shutdown;
// and who may open one (auth, with ?token= for browsers).
import t, { type Test } from 'tap';
import { hashToken } from '../../dist/auth/tokens.js';
import { fixture, startWisp } from '../helpers/wisp.js';
import { callMethod, instanceAction, mustCreate, roomy } from '../helpers/instances.js';
import { listenForSockets, openSocket, refusedUpgrade, type TestSocket } from '../helpers/sockets.js';
import type { ConfigOverrides } from '../../dist/config.js';

const TOKEN = 'a-token-for-the-socket-tests-0123456789';
const DEPLOY = `Bearer ${TOKEN}`;

async function startRoom(t: Test, overrides: ConfigOverrides = {}, create: Record<string, unknown> = {}) {
  const app = await startWisp(t, { ...roomy, ...overrides });
  const headers = overrides.auth ? { authorization: DEPLOY } : {};
  const deployed = await app.inject({ method: 'PUT', url: '/v1/functions/room', headers: { ...headers, 'content-type': 'application/typescript' }, payload: fixture('room.ts') });
  if (deployed.statusCode >= 300) t.fail(deployed.body);
  const created = await app.inject({ method: 'POST', url: '/v1/functions/room/instances', headers: { ...headers, 'content-type': 'application/json' }, payload: JSON.stringify({ class: 'Room', ...create }) });
  const id = created.json().id as string;
  const base = await listenForSockets(app);
  return { app, id, base, url: `${base}/v1/instances/${id}/ws` };
}

async function joined(url: string): Promise<TestSocket> {
  const socket = await openSocket(url);
  await socket.nextJson();
  return socket;
}

t.test('suspend closes with 4000, delete with 4001', async (t) => {
  const { app, id, url } = await startRoom(t);
  const [a, b] = [await joined(url), await joined(url)];
  await instanceAction(app, id, 'suspend');
  t.same(await a.closed, { code: 4000, reason: 'the instance was suspended' });
  t.equal((await b.closed).code, 4000);
  await instanceAction(app, id, 'resume');
  const c = await joined(url);
  t.equal((await app.inject({ method: 'DELETE', url: `/v1/instances/${id}` })).statusCode, 204);
  t.same(await c.closed, { code: 4001, reason: 'the instance was deleted' });
});

t.test('a crash closes with 4002 and why; the restarted instance takes new sockets', async (t) => {
  const { app, id, url } = await startRoom(t, {}, { maxRestarts: 1 });
  const [a, b] = [await joined(url), await joined(url)];
  a.send('crash');
  const closed = await a.closed;
  t.equal(closed.code, 4002);
  t.match(closed.reason, /^the instance crashed: its thread exited with code 3/);
  t.equal((await b.closed).code, 4002, 'every socket of the instance closes');
  // 503 INSTANCE_UNAVAILABLE (retry-after) while the restart is under way.
  let again: TestSocket | undefined;
  while (!again) {
    again = await openSocket(url).catch((err: Error) => {
      if (!/refused: 503/.test(err.message)) throw err;
      return undefined;
    });
  }
  t.equal((await again.nextJson()).present, 1, 'a new socket joins the restarted instance');
  t.equal((await app.inject({ method: 'GET', url: `/v1/instances/${id}` })).json().restarts, 1);
});

t.test('a shutdown closes with 1001', async (t) => {
  const { app, url } = await startRoom(t);
  const a = await joined(url);
  const closing = app.close();
  t.same(await a.closed, { code: 1001, reason: 'Wisp is shutting down' });
  await closing;
});

t.test('auth: a bearer header or ?token= with scope invoke; none is refused before the upgrade', async (t) => {
  const { url } = await startRoom(t, { auth: { tokens: [{ name: 'ci', scope: 'deploy', sha256: hashToken(TOKEN) }, { name: 'caller', scope: 'invoke', sha256: hashToken(`${TOKEN}-invoke`) }] } });
  const none = await refusedUpgrade(url);
  t.equal(none.status, 401);
  t.equal(none.problem.code, 'TOKEN_REQUIRED');
  t.match(none.problem.detail, /\?token=/, 'the problem says how a browser sends it');
  const wrong = await refusedUpgrade(`${url}?token=nope`);
  t.equal(wrong.status, 401);
  t.equal(wrong.problem.code, 'INVALID_TOKEN');
  const inQuery = await openSocket(`${url}?token=${TOKEN}-invoke`);
  t.match((await inQuery.nextJson()).welcome, /^ws_/);
  const inHeader = await openSocket(url, { authorization: `Bearer ${TOKEN}-invoke` });
  t.equal((await inHeader.nextJson()).present, 2);
});

t.test("a page of another origin cannot open a socket (a Wisp on loopback needs no token); Wisp's own pages can", async (t) => {
  const { url, base } = await startRoom(t);
  const foreign = await refusedUpgrade(url, { origin: 'https://evil.example' });
  t.equal(foreign.status, 403);
  t.equal(foreign.problem.code, 'FOREIGN_ORIGIN');
  const own = await openSocket(url, { origin: base.replace(/^ws/, 'http') });
  t.match((await own.nextJson()).welcome, /^ws_/, 'an Origin of the same host and port is fine');
});

t.test('a client that reads nothing is cut once too much waits for it; the instance hears 4008 and goes on', async (t) => {
  const { app, id, url } = await startRoom(t, { instances: { socketBufferBytes: 1024 * 1024 } });
  const stalled = await joined(url);
  // Stop reading: what the instance sends piles up in the gateway once the kernel's buffers are full.
  const raw = (stalled.ws as unknown as { _socket: import('node:net').Socket })._socket;
  raw.pause();
  t.equal((await callMethod(app, id, 'flood', [400, 64 * 1024])).body, '400', 'the instance is not held up by the slow client');
  // Reading again, the client gets what reached it, then finds the connection gone.
  raw.resume();
  t.equal((await stalled.closed).code, 1006, 'the connection is cut: a close frame would wait behind the data');
  const closes = async () => ((await callMethod(app, id, 'history')).json().events as string[]).filter((e) => e.startsWith('close'));
  while ((await closes()).length === 0) await new Promise((resolve) => setTimeout(resolve, 20));
  t.match((await closes())[0], /^close 4008 the client read too slowly: over 1048576 bytes waited for it$/, 'webSocketClose hears why');
  t.equal((await callMethod(app, id, 'announce', ['alive'])).statusCode, 200);
});
