// Batches (POST /v1/functions/{name}/batches): one request, many inputs, each an ordinary
// asynchronous invocation. Results come back in input order with the failed ones' errors; a
// cancel stops the rest; the event stream sends members in the order they finish; an
// idempotency key covers the whole batch; the callback comes once, when every member is final.
import t, { type Test } from 'tap';
import { once } from 'node:events';
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { until } from '../helpers/cluster.js';
import { startGate } from '../helpers/gate.js';
import { getInvocation } from '../helpers/invocations.js';
import { listenForSockets } from '../helpers/sockets.js';
import { assertProblem, mustDeploy, startWisp, type App } from '../helpers/wisp.js';

// Fails for every seventh input, so that a batch has failures in known places.
const picky = `export const config = { retries: 0 };
export default async (n: number) => { if (n % 7 === 3) throw new Error('no ' + n); return n * 10; };`;

function submitBatch(app: App, name: string, body: string, headers: Record<string, string> = {}) {
  return app.inject({ method: 'POST', url: `/v1/functions/${name}/batches`, headers: { 'content-type': 'application/json', ...headers }, payload: body });
}

async function mustBatch(t: Test, app: App, name: string, inputs: unknown[], headers: Record<string, string> = {}): Promise<string> {
  const res = await submitBatch(app, name, JSON.stringify({ inputs }), headers);
  if (res.statusCode !== 202) t.fail(`batch of ${name}: ${res.statusCode} ${res.body}`);
  return res.json().id;
}

/** Long-polls until every member is final (the route's own wait). */
async function waitDone(app: App, id: string): Promise<Record<string, any>> {
  for (;;) {
    const batch = (await app.inject(`/v1/batches/${id}?wait=30`)).json();
    if (batch.status !== 'running') return batch;
  }
}

async function allResults(app: App, id: string, limit: number): Promise<Record<string, any>[]> {
  const results: Record<string, any>[] = [];
  let cursor: string | null = null;
  do {
    const page: Record<string, any> = (await app.inject(`/v1/batches/${id}?results=true&limit=${limit}${cursor === null ? '' : `&cursor=${cursor}`}`)).json();
    results.push(...page.results);
    cursor = page.nextCursor;
  } while (cursor !== null);
  return results;
}

t.test('a batch of 1,000 with failures: acknowledged at once, results in input order, the failed ones with their errors', async (t) => {
  const app = await startWisp(t);
  await mustDeploy(t, app, 'picky', picky);
  const inputs = Array.from({ length: 1000 }, (_, i) => i);
  const res = await submitBatch(app, 'picky', JSON.stringify({ inputs }));
  t.equal(res.statusCode, 202, res.body);
  const { id, size, status } = res.json();
  t.equal(size, 1000);
  t.equal(status, 'running');
  t.equal(res.headers.location, `/v1/batches/${id}`);
  const done = await waitDone(app, id);
  t.equal(done.status, 'completed');
  const failing = inputs.filter((n) => n % 7 === 3).length;
  t.same(done.counts, { queued: 0, running: 0, retrying: 0, succeeded: 1000 - failing, failed: failing, cancelled: 0 });
  const results = await allResults(app, id, 300);
  t.same(results.map((r) => r.index), inputs, 'every member once, in input order, over pages');
  for (const r of results) {
    if (r.index % 7 === 3) {
      if (r.status !== 'failed' || r.error?.code !== 'FUNCTION_ERROR' || r.error?.error?.message !== `no ${r.index}`) t.fail(`member ${r.index}: ${JSON.stringify(r)}`);
    } else if (r.status !== 'succeeded' || r.result !== r.index * 10) t.fail(`member ${r.index}: ${JSON.stringify(r)}`);
  }
  const member = await getInvocation(app, results[5]!.id);
  t.match(member, { batchId: id, index: 5, mode: 'async', input: 5, result: 50 }, 'a member is an ordinary invocation');
  t.equal((await app.inject(`/v1/invocations/${results[5]!.id}/logs`)).statusCode, 200);
});

t.test('NDJSON, one input per line; bad batches are 4xx that say what to fix', async (t) => {
  const app = await startWisp(t, { invocations: { maxBatchSize: 5 } as never });
  await mustDeploy(t, app, 'picky', picky);
  const ndjson = await submitBatch(app, 'picky', '1\n\n{"a": 1}\n"text"\n', { 'content-type': 'application/x-ndjson' });
  t.equal(ndjson.statusCode, 202, ndjson.body);
  const results = (await app.inject(`/v1/batches/${ndjson.json().id}?results=true`)).json().results;
  t.same(
    await Promise.all(results.map(async (r: { id: string }) => (await getInvocation(app, r.id)).input)),
    [1, { a: 1 }, 'text'],
    'blank lines skipped',
  );
  const badLine = assertProblem(t, await submitBatch(app, 'picky', '1\n{oops\n', { 'content-type': 'application/x-ndjson' }), 400, 'INVALID_JSON');
  t.match(badLine.detail, /line 2/);
  assertProblem(t, await submitBatch(app, 'picky', JSON.stringify({ inputs: [] })), 400, 'INVALID_REQUEST');
  assertProblem(t, await submitBatch(app, 'picky', JSON.stringify([1, 2])), 400, 'INVALID_REQUEST');
  assertProblem(t, await submitBatch(app, 'picky', JSON.stringify({ inputs: [1], extra: true })), 400, 'INVALID_REQUEST');
  const big = assertProblem(t, await submitBatch(app, 'picky', JSON.stringify({ inputs: [1, 2, 3, 4, 5, 6] })), 413, 'BATCH_TOO_LARGE');
  t.match(big.detail, /at most 5/);
  assertProblem(t, await submitBatch(app, 'nobody', JSON.stringify({ inputs: [1] })), 404, 'FUNCTION_NOT_FOUND');
  assertProblem(t, await app.inject('/v1/batches/00000000-0000-4000-8000-000000000000'), 404, 'BATCH_NOT_FOUND');
  assertProblem(t, await app.inject('/v1/batches/00000000-0000-4000-8000-000000000000/events'), 404, 'BATCH_NOT_FOUND');
  assertProblem(t, await app.inject({ method: 'DELETE', url: '/v1/batches/00000000-0000-4000-8000-000000000000' }), 404, 'BATCH_NOT_FOUND');
  assertProblem(t, await app.inject(`/v1/batches/${ndjson.json().id}?results=true&cursor=abc`), 400, 'INVALID_REQUEST');
  t.equal((await app.inject('/v1/invocations?function=picky&limit=100')).json().invocations.length, 3, 'no refused batch left a member');
});

t.test('an Idempotency-Key covers the whole batch', async (t) => {
  const app = await startWisp(t);
  await mustDeploy(t, app, 'picky', picky);
  const body = JSON.stringify({ inputs: [1, 2, 4] });
  const first = await submitBatch(app, 'picky', body, { 'idempotency-key': 'nightly-1' });
  const again = await submitBatch(app, 'picky', body, { 'idempotency-key': 'nightly-1' });
  t.equal(again.statusCode, 202);
  t.equal(again.json().id, first.json().id, 'the same batch');
  t.equal(again.headers['idempotent-replayed'], 'true');
  const reused = assertProblem(t, await submitBatch(app, 'picky', JSON.stringify({ inputs: [9] }), { 'idempotency-key': 'nightly-1' }), 422, 'IDEMPOTENCY_KEY_REUSED');
  t.equal(reused.batchId, first.json().id);
  await waitDone(app, first.json().id);
  t.equal((await app.inject('/v1/invocations?function=picky&limit=100')).json().invocations.length, 3, 'its members once');
});

t.test('DELETE cancels the members not final yet; the batch ends cancelled', async (t) => {
  const app = await startWisp(t);
  const gate = await startGate(t);
  await mustDeploy(t, app, 'held', `export const config = { concurrency: 2, retries: 0 };
export default async (n: number) => { await fetch(${JSON.stringify(gate.url)}); return n; };`);
  const id = await mustBatch(t, app, 'held', Array.from({ length: 20 }, (_, i) => i));
  await gate.arrived(2);
  const cancelled = await app.inject({ method: 'DELETE', url: `/v1/batches/${id}` });
  t.equal(cancelled.statusCode, 200, cancelled.body);
  t.ok(cancelled.json().counts.cancelled >= 18, 'the waiting ones at once');
  gate.open();
  const done = await waitDone(app, id);
  t.equal(done.status, 'cancelled');
  t.equal(done.counts.queued + done.counts.running + done.counts.retrying, 0);
  t.equal(done.counts.cancelled + done.counts.succeeded, 20);
  t.ok(done.counts.cancelled >= 18);
});

/** A server that holds each request `/?key=K` until the test releases K. */
async function startKeyedGate(t: Test) {
  const held = new Map<string, ServerResponse>();
  const arrivals: { count: number; resolve: () => void }[] = [];
  const server = createServer((req, res) => {
    held.set(new URL(req.url!, 'http://x').searchParams.get('key')!, res);
    for (const w of arrivals.filter((w) => held.size >= w.count)) w.resolve();
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.teardown(() => {
    for (const res of held.values()) res.end();
    server.closeAllConnections();
    server.close();
  });
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`,
    arrived: (count: number) => (held.size >= count ? Promise.resolve() : new Promise<void>((resolve) => arrivals.push({ count, resolve }))),
    release: (key: string) => held.get(key)!.end('ok'),
  };
}

/** Reads server-sent events from a fetch body, one at a time. */
function eventReader(body: ReadableStream<Uint8Array>) {
  const reader = body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  return async (): Promise<{ event: string; data: any }> => {
    for (;;) {
      const end = buffer.indexOf('\n\n');
      if (end >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        if (block.startsWith(':')) continue;
        const event = /^event: (.*)$/m.exec(block)![1]!;
        return { event, data: JSON.parse(/^data: (.*)$/m.exec(block)![1]!) };
      }
      const { value, done } = await reader.read();
      if (done) throw new Error('the stream ended');
      buffer += value;
    }
  };
}

t.test('the event stream sends members in the order they finish, then done; a late stream, in input order', async (t) => {
  const app = await startWisp(t);
  const gate = await startKeyedGate(t);
  await mustDeploy(t, app, 'keyed', `export const config = { concurrency: 3 };
export default async (n: number) => { await (await fetch(${JSON.stringify(gate.url)} + '?key=' + n)).text(); return n; };`);
  const base = (await listenForSockets(app)).replace('ws:', 'http:');
  const id = await mustBatch(t, app, 'keyed', [0, 1, 2]);
  await gate.arrived(3);
  const stream = await fetch(`${base}/v1/batches/${id}/events`);
  t.equal(stream.headers.get('content-type'), 'text/event-stream; charset=utf-8');
  const next = eventReader(stream.body!);
  for (const key of [2, 0, 1]) {
    gate.release(String(key));
    const { event, data } = await next();
    t.equal(event, 'result');
    t.match(data, { index: key, status: 'succeeded', result: key });
  }
  const done = await next();
  t.equal(done.event, 'done');
  t.match(done.data, { id, status: 'completed', counts: { succeeded: 3 } });

  const late = eventReader((await fetch(`${base}/v1/batches/${id}/events`)).body!);
  const order = [(await late()).data.index, (await late()).data.index, (await late()).data.index];
  t.same(order, [0, 1, 2], 'those final already, in input order');
  t.equal((await late()).event, 'done');
});

t.test('the callback is called once, when every member is final, signed', async (t) => {
  const deliveries: { headers: Record<string, unknown>; body: any }[] = [];
  let delivered = (): void => undefined;
  const receiver = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk) => (body += chunk));
    req.on('end', () => {
      deliveries.push({ headers: req.headers, body: JSON.parse(body) });
      res.end();
      delivered();
    });
  });
  receiver.listen(0, '127.0.0.1');
  await once(receiver, 'listening');
  t.teardown(() => receiver.close());
  const app = await startWisp(t);
  await mustDeploy(t, app, 'picky', picky);
  const arrived = new Promise<void>((resolve) => (delivered = resolve));
  const id = await mustBatch(t, app, 'picky', [1, 2, 3, 4], { 'x-callback-url': `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/done` });
  await arrived;
  t.equal(deliveries.length, 1);
  t.equal(deliveries[0]!.headers['webhook-id'], `batch.${id}`);
  t.match(String(deliveries[0]!.headers['webhook-signature']), /^v1,/);
  t.match(deliveries[0]!.body, { id, status: 'completed', counts: { succeeded: 3, failed: 1 } });
  // Its state is stored after the receiver answered.
  await until(async () => (await waitDone(app, id)).callback.status !== 'pending');
  const after = await waitDone(app, id);
  t.match(after.callback, { status: 'delivered', attempts: 1 });
  t.type(after.finishedAt, 'string');
});
