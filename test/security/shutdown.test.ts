// Graceful shutdown: on SIGTERM new requests get 503 SHUTTING_DOWN, the call in flight finishes,
// instances are checkpointed, queued asynchronous work stays for the next start, and the exit is 0.
import t, { type Test } from 'tap';
import { connect } from 'node:net';
import { once } from 'node:events';
import { startGate, type Gate } from '../helpers/gate.js';
import { fixture, startWisp, type App } from '../helpers/wisp.js';
import { send, startWispProcess } from '../helpers/process.js';
import { shutDown } from '../../dist/shutdown.js';
import { tempDir } from '../helpers/temp-dir.js';

const held = (gateUrl: string) => `export const config = { concurrency: 2 };
export default async (input: { tag?: string }) => { await fetch(${JSON.stringify(gateUrl)}); return 'finished ' + (input?.tag ?? ''); };
`;

/** Reads HTTP/1.1 responses off a raw socket until it closes. */
function responsesOf(socket: ReturnType<typeof connect>): Promise<string> {
  let text = '';
  socket.on('data', (chunk) => (text += chunk));
  return once(socket, 'close').then(() => text);
}

t.test('SIGTERM drains: in-flight finishes, new requests get 503, instances and queued work survive, exit 0', async (t) => {
  const gate = await startGate(t);
  const dataDir = tempDir();
  const first = await startWispProcess(dataDir);
  t.teardown(() => first.child.kill('SIGKILL'));
  t.equal((await send(first.url, 'PUT', '/v1/functions/held', held(gate.url))).status, 201);
  t.equal((await send(first.url, 'PUT', '/v1/functions/counter', fixture('counter.ts'))).status, 201);
  const instance = (await send(first.url, 'POST', '/v1/functions/counter/instances', { class: 'Counter', args: [10] })).json.id as string;
  t.equal((await send(first.url, 'POST', `/v1/instances/${instance}/methods/add`, [5])).json, 15);

  // One synchronous call and one asynchronous invocation hold the function's two slots at the
  // gate; a second asynchronous invocation therefore waits in the queue.
  const { port } = new URL(first.url);
  const socket = connect(Number(port), '127.0.0.1');
  await once(socket, 'connect');
  const answers = responsesOf(socket);
  socket.write('POST /v1/functions/held/invoke HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: 14\r\n\r\n{"tag":"sync"}');
  const running = (await send(first.url, 'POST', '/v1/functions/held/invocations', { tag: 'running' })).json.id as string;
  await gate.arrived(2);
  const queued = (await send(first.url, 'POST', '/v1/functions/held/invocations', { tag: 'queued' })).json.id as string;
  t.equal((await send(first.url, 'GET', `/v1/invocations/${queued}`)).json.status, 'queued');

  const draining = first.line(/shutting down/);
  first.child.kill('SIGTERM');
  await draining;
  // A request on a connection that is already open is answered, not dropped.
  socket.write('GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n');
  gate.open();
  const text = await answers;
  const [syncAnswer, lateAnswer] = text.split(/(?=HTTP\/1\.1 )/);
  t.match(syncAnswer, /^HTTP\/1.1 200 .*"finished sync"$/s, 'the call in flight finished');
  t.match(lateAnswer, /^HTTP\/1.1 503 /);
  t.match(lateAnswer, /retry-after: \d+/i);
  t.match(lateAnswer, /"code":"SHUTTING_DOWN"/);
  const [code, signal] = await first.exited;
  t.equal(code, 0, `exit code (signal ${signal})`);

  const second = await startWispProcess(dataDir);
  t.teardown(() => second.child.kill('SIGKILL'));
  t.equal((await send(second.url, 'POST', `/v1/instances/${instance}/methods/get`, [])).json, 15, 'the instance was checkpointed at the stop');
  const afterRunning = (await send(second.url, 'GET', `/v1/invocations/${running}?wait=30`)).json;
  t.equal(afterRunning.status, 'succeeded');
  t.equal(afterRunning.result, 'finished running');
  const afterQueued = (await send(second.url, 'GET', `/v1/invocations/${queued}?wait=30`)).json;
  t.equal(afterQueued.status, 'succeeded', 'the queued invocation ran after the restart');
  t.equal(afterQueued.result, 'finished queued');
  second.child.kill('SIGTERM');
  t.equal((await second.exited)[0], 0);
});

t.test('a call that outlives the grace period is cut off, and the stop still completes', async (t) => {
  const gate = await startGate(t);
  const app = await startWisp(t);
  await app.inject({ method: 'PUT', url: '/v1/functions/held', headers: { 'content-type': 'application/typescript' }, payload: held(gate.url) });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const { port } = app.server.address() as { port: number };
  const call = fetch(`http://127.0.0.1:${port}/v1/functions/held/invoke`, { method: 'POST' }).then(
    (res) => `answered ${res.status}`,
    (err: Error) => `cut off: ${err.message}`,
  );
  await gate.arrived(1);
  await shutDown(app, 200);
  t.match(await call, /^cut off/, 'the held call was cut off rather than waited for');
});

/** An app with one asynchronous invocation running, held at the gate. */
async function runningInvocation(t: Test): Promise<{ gate: Gate; app: App; id: string }> {
  const gate = await startGate(t);
  const app = await startWisp(t);
  await app.inject({ method: 'PUT', url: '/v1/functions/held', headers: { 'content-type': 'application/typescript' }, payload: held(gate.url) });
  const id = (await app.inject({ method: 'POST', url: '/v1/functions/held/invocations', payload: {} })).json().id as string;
  await gate.arrived(1);
  return { gate, app, id };
}

t.test('a long-poll is answered at once when the drain begins', async (t) => {
  const { gate, app, id } = await runningInvocation(t);
  // What GET /v1/invocations/{id}?wait= runs, with a wait past the test's timeout: only the
  // drain can answer it in time.
  const poll = app.wisp.invocations.wait(id, 600_000);
  const drained = shutDown(app, 5000);
  t.equal((await poll).status, 'running', 'the poll answered with the state it had');
  gate.open();
  await drained;
});

t.test('an event stream ends when the drain begins', async (t) => {
  const { gate, app, id } = await runningInvocation(t);
  await app.listen({ host: '127.0.0.1', port: 0 });
  const { port } = app.server.address() as { port: number };
  const res = await fetch(`http://127.0.0.1:${port}/v1/invocations/${id}/events`);
  const reader = res.body!.getReader();
  const first = new TextDecoder().decode((await reader.read()).value);
  t.match(first, /event: running/, 'the stream is open with the state now');
  // A grace long past the test's timeout: only the drain itself can end the stream in time.
  const drained = shutDown(app, 600_000);
  t.equal((await reader.read()).done, true, 'the stream ended with the drain');
  gate.open();
  await drained;
});
