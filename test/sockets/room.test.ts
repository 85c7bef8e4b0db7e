// WebSockets to an instance (GET /v1/instances/{id}/ws) with a real ws client: a room of three,
// frames in order with method calls, binary frames, and what the instance does to its sockets.
import t, { type Test } from 'tap';
import { startGate } from '../helpers/gate.js';
import { assertProblem, fixture, mustDeploy, startWisp } from '../helpers/wisp.js';
import { callMethod, mustCreate, roomy } from '../helpers/instances.js';
import { listenForSockets, openSocket, refusedUpgrade } from '../helpers/sockets.js';

async function startRoom(t: Test, overrides = {}) {
  const app = await startWisp(t, { ...roomy, ...overrides });
  await mustDeploy(t, app, 'room', fixture('room.ts'));
  const id = await mustCreate(t, app, 'room', { class: 'Room' });
  const base = await listenForSockets(app);
  return { app, id, url: `${base}/v1/instances/${id}/ws` };
}

t.test('three clients in one room: each line reaches all three, in one order', async (t) => {
  const { app, id, url } = await startRoom(t);
  const clients = [];
  for (let i = 0; i < 3; i++) {
    const client = await openSocket(url);
    const welcome = await client.nextJson();
    t.match(welcome.welcome, /^ws_[0-9a-f]{16}$/);
    t.equal(welcome.present, i + 1, 'webSocketOpen sees the sockets open so far');
    clients.push({ client, id: welcome.welcome as string });
  }
  // Those already in the room heard nothing of later joins: only lines are broadcast.
  for (let n = 0; n < 5; n++) for (const { client } of clients) client.send(`line ${n}`);
  const heard = await Promise.all(clients.map(async ({ client }) => {
    const got = [];
    for (let i = 0; i < 15; i++) got.push(await client.nextJson());
    return got;
  }));
  const expected = [];
  for (let n = 0; n < 5; n++) for (const { id: from } of clients) expected.push({ from, line: `line ${n}` });
  // Each client's own frames stay in its order; all three hear the room's one order.
  t.same(heard[1], heard[0]);
  t.same(heard[2], heard[0]);
  t.same([...heard[0]!].sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b))), [...expected].sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b))));
  for (const { id: from } of clients) t.same(heard[0]!.filter((m) => m.from === from).map((m) => m.line), [0, 1, 2, 3, 4].map((n) => `line ${n}`));

  t.equal((await callMethod(app, id, 'whisper', [clients[1]!.id, 'psst'])).body, 'true');
  t.same(await clients[1]!.client.nextJson(), { whisper: 'psst' }, 'a socket is reached by the id the instance kept');
  const history = (await callMethod(app, id, 'history')).json();
  t.same(history.open.sort(), clients.map((c) => c.id).sort());
  for (const { client } of clients) client.ws.close(1000, 'done');
  await Promise.all(clients.map(({ client }) => client.closed));
  await t.resolves(until(async () => (await callMethod(app, id, 'history')).json().open.length === 0));
  const events = (await callMethod(app, id, 'history')).json().events as string[];
  t.same(events.filter((e) => e.startsWith('close')), ['close 1000 done', 'close 1000 done', 'close 1000 done'], 'webSocketClose gets the code and reason');
});

t.test('frames and method calls run one at a time, in one order', async (t) => {
  const { app, id, url } = await startRoom(t);
  const gate = await startGate(t);
  const client = await openSocket(url);
  const { welcome } = await client.nextJson();
  // The gated line holds the mailbox: a method call waits its turn behind it.
  client.send(`gate ${gate.url}`);
  await gate.arrived(1);
  let answered = false;
  const called = callMethod(app, id, 'announce', ['between']).then((res) => {
    answered = true;
    return res;
  });
  client.send('after');
  // GET does not go through the mailbox: it answers while the line still holds it.
  t.equal((await app.inject({ method: 'GET', url: `/v1/instances/${id}` })).json().status, 'running');
  t.notOk(answered, 'the call did not run beside the line');
  gate.open();
  const frames = [await client.nextJson(), await client.nextJson(), await client.nextJson()];
  t.same(frames[0], { from: welcome, line: `gate ${gate.url}` }, 'the line that held the mailbox ends first');
  const { lines } = (await callMethod(app, id, 'history')).json();
  // The client hears what the instance did in the order it did it, calls and frames alike.
  t.same(frames.map((f) => f.line ?? `announce ${f.announce}`), lines);
  t.equal((await called).body, String(lines.indexOf('announce between') + 1), 'the method saw exactly what ran before it');
});

t.test('binary frames arrive as bytes and go back as bytes', async (t) => {
  const { url } = await startRoom(t);
  const client = await openSocket(url);
  await client.nextJson();
  client.send(Buffer.from([1, 2, 3, 250]));
  const back = await client.next();
  t.ok(Buffer.isBuffer(back), 'a binary frame');
  t.same([...(back as Buffer)], [250, 3, 2, 1]);
});

t.test('the instance closes a socket with its own code; a handler that throws closes with 1011', async (t) => {
  const { app, id, url } = await startRoom(t);
  const leaving = await openSocket(url);
  await leaving.nextJson();
  leaving.send('leave');
  t.same(await leaving.closed, { code: 4100, reason: 'you asked to leave' });

  const failing = await openSocket(url);
  await failing.nextJson();
  failing.send('throw');
  const closed = await failing.closed;
  t.equal(closed.code, 1011);
  t.match(closed.reason, /webSocketMessage threw Error: the room cannot take "throw"/);
  t.ok(Buffer.byteLength(closed.reason) <= 123, 'the reason fits a close frame');
  t.equal((await callMethod(app, id, 'announce', ['still here'])).statusCode, 200, 'the instance lives on');
  const events = (await callMethod(app, id, 'history')).json().events as string[];
  const closes = events.filter((e) => e.startsWith('close'));
  t.equal(closes.length, 1, 'no webSocketClose for the socket the instance closed itself');
  t.match(closes[0], /^close 1011 webSocketMessage threw Error/, 'the failed one is forgotten by the instance too, and it hears why');
  t.equal((await callMethod(app, id, 'history')).json().open.length, 0, 'neither is still open inside the instance');
});

t.test('a frame over instances.socketFrameBytes closes the socket with 1009', async (t) => {
  const { app, id, url } = await startRoom(t, { instances: { socketFrameBytes: 1024 } });
  const client = await openSocket(url);
  await client.nextJson();
  client.send('x'.repeat(1024));
  t.equal(((await client.nextJson()) as { line: string }).line.length, 1024, 'a frame at the limit arrives');
  client.send('x'.repeat(1025));
  t.equal((await client.closed).code, 1009);
  t.equal((await callMethod(app, id, 'announce', ['fine'])).statusCode, 200);
});

t.test('refused before the upgrade, as problems: no socket handler, unknown instance, a plain GET', async (t) => {
  const { app, url } = await startRoom(t);
  const quiet = await mustCreate(t, app, 'room', { class: 'Quiet' });
  const base = url.slice(0, url.indexOf('/v1/'));
  const noHandler = await refusedUpgrade(`${base}/v1/instances/${quiet}/ws`);
  t.equal(noHandler.status, 400);
  t.equal(noHandler.problem.code, 'NO_SOCKET_HANDLER');
  t.match(noHandler.problem.detail, /webSocketMessage/);
  const unknown = await refusedUpgrade(`${base}/v1/instances/ins_00000000000000000000/ws`);
  t.equal(unknown.status, 404);
  t.equal(unknown.problem.code, 'INSTANCE_NOT_FOUND');
  assertProblem(t, await app.inject({ method: 'GET', url: url.slice(base.length) }), 426, 'UPGRADE_REQUIRED');
  t.equal((await callMethod(app, quiet, 'webSocketMessage', [{}, 'x'])).statusCode, 404, 'the socket handlers cannot be called as methods');
});

/** Polls `check` until it holds (an event the test cannot subscribe to). */
async function until(check: () => Promise<boolean>): Promise<true> {
  for (;;) {
    if (await check()) return true;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
