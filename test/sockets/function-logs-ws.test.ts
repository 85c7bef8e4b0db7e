// GET /v1/functions/{name}/logs/ws: the live log feed over a WebSocket, with the lines of the
// function's instances (method calls and socket handlers) beside its stateless calls'.
import t from 'tap';
import { assertProblem, fixture, invoke, mustDeploy, startWisp } from '../helpers/wisp.js';
import { callMethod, mustCreate, roomy } from '../helpers/instances.js';
import { listenForSockets, openSocket, refusedUpgrade } from '../helpers/sockets.js';

const ROOM_AND_SHOUT = `${fixture('room.ts')}\nexport default (input: { text: string }) => { console.warn('shout', input.text); return input.text; };\nexport class Loud { boom() { console.error('about to throw'); throw new TypeError('loud failure'); } }\n`;

t.test('stateless calls, instance methods and socket handlers, each line with who logged it', async (t) => {
  const app = await startWisp(t, roomy);
  await mustDeploy(t, app, 'room', ROOM_AND_SHOUT);
  const room = await mustCreate(t, app, 'room', { class: 'Room' });
  const loud = await mustCreate(t, app, 'room', { class: 'Loud' });
  const base = await listenForSockets(app);
  const follower = await openSocket(`${base}/v1/functions/room/logs/ws`);

  t.equal((await invoke(app, 'room', { text: 'hi' })).statusCode, 200);
  const client = await openSocket(`${base}/v1/instances/${room}/ws`);
  const { welcome } = await client.nextJson();
  client.send('hello room');
  await client.nextJson();
  t.equal((await callMethod(app, loud, 'boom')).statusCode, 500);

  const events = [];
  for (let i = 0; i < 4; i++) events.push(await follower.nextJson());
  t.match(events[0], { event: 'log', level: 'warn', message: 'shout hi', attempt: 1 });
  t.type(events[0].invocationId, 'string');
  t.notOk('instance' in events[0], 'a stateless call names no instance');
  t.match(events[1], { event: 'log', level: 'log', message: `line from ${welcome}: hello room`, instance: room, method: 'webSocketMessage', invocationId: null });
  t.match(events[2], { event: 'log', level: 'error', message: 'about to throw', instance: loud, method: 'boom' });
  t.type(events[2].invocationId, 'string', 'a synchronous method call has its invocation id');
  t.match(events[3], { event: 'error', code: 'METHOD_ERROR', instance: loud, method: 'boom' });
  t.match(events[3].message, /loud failure/);
  t.match(events[3].stack, /TypeError: loud failure/);
});

t.test('refusals before the upgrade: unknown function 404, plain GET 426', async (t) => {
  const app = await startWisp(t, roomy);
  await mustDeploy(t, app, 'room', ROOM_AND_SHOUT);
  const base = await listenForSockets(app);
  const unknown = await refusedUpgrade(`${base}/v1/functions/nope/logs/ws`);
  t.equal(unknown.status, 404);
  t.equal(unknown.problem.code, 'FUNCTION_NOT_FOUND');
  assertProblem(t, await app.inject({ method: 'GET', url: '/v1/functions/room/logs/ws' }), 426, 'UPGRADE_REQUIRED');
});

t.test('a follower that stops reading gets a last `dropped` frame and is closed with 4008; the calls never wait', async (t) => {
  const app = await startWisp(t, roomy);
  // 64 lines of 1 KB a call: the most a call's log buffer (invocations.logBytes, 64 KiB) keeps.
  await mustDeploy(t, app, 'noisy', 'export default () => { for (let i = 0; i < 64; i++) console.log(String(i).padEnd(1000, ".")); return "done"; };');
  const base = await listenForSockets(app);
  const follower = await openSocket(`${base}/v1/functions/noisy/logs/ws`);
  const raw = (follower.ws as unknown as { _socket: import('node:net').Socket })._socket;
  raw.pause();
  // 200 calls of 64 lines: far past what the socket buffers and the 1,000 waiting frames hold.
  for (let i = 0; i < 200; i++) t.equal((await invoke(app, 'noisy')).json(), 'done', `call ${i} answered`, { diagnostic: false });
  const frames: { event: string; reason?: string }[] = [];
  follower.ws.on('message', (frame) => frames.push(JSON.parse(String(frame))));
  raw.resume();
  const closed = await follower.closed;
  t.equal(closed.code, 4008);
  t.same(frames.at(-1), { event: 'dropped', reason: 'the client read too slowly: more than 1000 events waited for it' }, 'told why, last');
  t.ok(frames.filter((f) => f.event === 'log').length < 200 * 64, 'it did not get every line');
});
