// GET /v1/functions/{name}/logs?follow=true on a real Wisp process: the console lines of sync,
// async and failing calls arrive as server-sent events with their invocation ids, in order;
// without follow=true it is 400, and an unknown function 404; a follower that stops reading is
// dropped with a last `dropped` event while the calls go on.
import t from 'tap';
import { once } from 'node:events';
import { connect } from 'node:net';
import { send, startWispProcess } from '../helpers/process.js';
import { tempDir } from '../helpers/temp-dir.js';

const SPEAKER = 'export default (input: { n: number; fail?: boolean }) => {\n  console.log("first", input.n);\n  console.warn("second", input.n);\n  if (input.fail) throw new RangeError("bad n " + input.n);\n  return input.n;\n};\n';

t.test('each call\'s lines, then its error, as events on a followed stream', async (t) => {
  const wisp = await startWispProcess(tempDir());
  t.teardown(() => void wisp.child.kill('SIGKILL'));
  t.equal((await send(wisp.url, 'PUT', '/v1/functions/speaker', SPEAKER)).status, 201);
  const controller = new AbortController();
  t.teardown(() => controller.abort());
  const stream = await fetch(`${wisp.url}/v1/functions/speaker/logs?follow=true`, { signal: controller.signal });
  t.equal(stream.status, 200);
  t.match(stream.headers.get('content-type'), /^text\/event-stream/);
  const events: { event: string; data: Record<string, unknown> }[] = [];
  const reading = (async () => {
    const decoder = new TextDecoder();
    let buffered = '';
    for await (const chunk of stream.body!) {
      buffered += decoder.decode(chunk as Uint8Array, { stream: true });
      for (let end = buffered.indexOf('\n\n'); end >= 0; end = buffered.indexOf('\n\n')) {
        const block = buffered.slice(0, end);
        buffered = buffered.slice(end + 2);
        const event = /^event: (\w+)/m.exec(block)?.[1];
        const data = /^data: (.*)$/m.exec(block)?.[1];
        if (event && data) events.push({ event, data: JSON.parse(data) });
      }
    }
  })().catch(() => undefined);
  const sync = await send(wisp.url, 'POST', '/v1/functions/speaker/invoke', { n: 1 });
  t.equal(sync.status, 200);
  const submitted = await send(wisp.url, 'POST', '/v1/functions/speaker/invocations', { n: 2 });
  await send(wisp.url, 'GET', `/v1/invocations/${submitted.json.id}?wait=10`);
  t.equal((await send(wisp.url, 'POST', '/v1/functions/speaker/invoke', { n: 3, fail: true })).status, 500);
  while (events.length < 7) await new Promise((resolve) => setTimeout(resolve, 20));
  t.same(
    events.map((e) => [e.event, e.data.level ?? e.data.code, e.data.message]),
    [
      ['log', 'log', 'first 1'],
      ['log', 'warn', 'second 1'],
      ['log', 'log', 'first 2'],
      ['log', 'warn', 'second 2'],
      ['log', 'log', 'first 3'],
      ['log', 'warn', 'second 3'],
      ['error', 'FUNCTION_ERROR', 'function "speaker" threw: RangeError: bad n 3'],
    ],
  );
  t.equal(events[2]!.data.invocationId, submitted.json.id, 'the asynchronous call\'s lines carry its id');
  t.match(events[6]!.data.stack, /speaker\.ts:4:\d+/, 'the error carries the function\'s stack, source-mapped');
  t.match(events[0]!.data.time, /^\d{4}-\d\d-\d\dT/);
  controller.abort();
  await reading;
});

t.test('without follow=true it is 400; an unknown function is 404', async (t) => {
  const wisp = await startWispProcess(tempDir());
  t.teardown(() => void wisp.child.kill('SIGKILL'));
  await send(wisp.url, 'PUT', '/v1/functions/speaker', SPEAKER);
  const plain = await send(wisp.url, 'GET', '/v1/functions/speaker/logs');
  t.same([plain.status, plain.json.code], [400, 'INVALID_REQUEST']);
  t.match(plain.json.detail, /follow=true/);
  const unknown = await send(wisp.url, 'GET', '/v1/functions/nobody/logs?follow=true');
  t.same([unknown.status, unknown.json.code], [404, 'FUNCTION_NOT_FOUND']);
});

t.test('a follower that stops reading is dropped with a last event, and the calls never wait for it', async (t) => {
  const wisp = await startWispProcess(tempDir());
  t.teardown(() => void wisp.child.kill('SIGKILL'));
  // 64 lines of 1 KB a call: the most a call's log buffer (invocations.logBytes, 64 KiB) keeps.
  await send(wisp.url, 'PUT', '/v1/functions/noisy', 'export default () => { for (let i = 0; i < 64; i++) console.log(String(i).padEnd(1000, ".")); return "done"; };');
  const { port } = new URL(wisp.url);
  const socket = connect(Number(port), '127.0.0.1');
  await once(socket, 'connect');
  socket.write(`GET /v1/functions/noisy/logs?follow=true HTTP/1.1\r\nhost: 127.0.0.1\r\n\r\n`);
  const chunks: Buffer[] = [];
  socket.on('data', (chunk: Buffer) => chunks.push(chunk));
  await new Promise<void>((resolve) => socket.once('data', () => resolve()));
  // Reads nothing more: the socket's buffers fill, then the server's queue for it.
  socket.pause();
  // 200 calls of 64 lines: far past what the buffers and the 1,000 waiting events hold.
  for (let i = 0; i < 200; i++) t.equal((await send(wisp.url, 'POST', '/v1/functions/noisy/invoke', {})).json, 'done', `call ${i} answered`, { diagnostic: false });
  socket.resume();
  await once(socket, 'end');
  const text = Buffer.concat(chunks).toString('utf8');
  t.match(text, /event: dropped\ndata: \{"reason":"the client read too slowly: more than 1000 events waited for it"\}\n\n/, 'told why, last');
  t.equal(text.slice(text.lastIndexOf('event: ')).split('\n')[0], 'event: dropped', 'no event after it: the stream ended');
  t.ok((text.match(/event: log/g) ?? []).length < 200 * 64, 'it did not get every line');
});
