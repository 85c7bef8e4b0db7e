// X-Callback-Url: the final record is POSTed to a real local receiver, signed the Standard
// Webhooks way (verified here with our own HMAC, independently of Wisp's signing code), and
// retried with backoff while the receiver fails.
import t, { type Test } from 'tap';
import { createHmac, timingSafeEqual } from 'node:crypto';
import { once } from 'node:events';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mustSubmit, waitFinal, waitUntil } from '../helpers/invocations.js';
import { ManualClock } from '../helpers/manual-clock.js';
import { mustDeploy, startWisp } from '../helpers/wisp.js';
import { tempDir } from '../helpers/temp-dir.js';

const SECRET = `whsec_${Buffer.from('a test secret of 32 bytes, fixed').toString('base64')}`;

interface Delivery {
  headers: IncomingMessage['headers'];
  body: string;
}

/** A receiver that answers each POST with the next status in `statuses` (then 200). */
async function startReceiver(t: Test, statuses: number[] = []) {
  const deliveries: Delivery[] = [];
  const waiters: { count: number; resolve: () => void }[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk) => (body += chunk));
    req.on('end', () => {
      deliveries.push({ headers: req.headers, body });
      res.statusCode = statuses.shift() ?? 200;
      res.end();
      for (const w of waiters.filter((w) => deliveries.length >= w.count)) w.resolve();
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.teardown(() => server.close());
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook?x=1`,
    deliveries,
    received: (count: number) => (deliveries.length >= count ? Promise.resolve() : new Promise<void>((resolve) => waiters.push({ count, resolve }))),
  };
}

/** Standard Webhooks verification, written from the spec: HMAC-SHA256 over "id.timestamp.body". */
function verify(delivery: Delivery): boolean {
  const id = String(delivery.headers['webhook-id']);
  const timestamp = String(delivery.headers['webhook-timestamp']);
  const key = Buffer.from(SECRET.slice('whsec_'.length), 'base64');
  const expected = createHmac('sha256', key).update(`${id}.${timestamp}.${delivery.body}`).digest();
  return String(delivery.headers['webhook-signature'])
    .split(' ')
    .some((part) => {
      const [version, signature] = part.split(',');
      const given = Buffer.from(signature ?? '', 'base64');
      return version === 'v1' && given.length === expected.length && timingSafeEqual(given, expected);
    });
}

const config = { invocations: { callbacks: { secret: SECRET, maxAttempts: 4, backoffMs: 1000, maxBackoffMs: 60000, timeoutMs: 5000 } } as never };

t.test('the final record is delivered to the callback URL, signed', async (t) => {
  const receiver = await startReceiver(t);
  const app = await startWisp(t, config);
  await mustDeploy(t, app, 'double', 'export default (n: number) => n * 2;');
  const id = await mustSubmit(t, app, 'double', 4, { 'x-callback-url': receiver.url });
  await receiver.received(1);
  const [delivery] = receiver.deliveries;
  t.ok(verify(delivery!), 'the signature verifies with the configured secret');
  t.equal(delivery!.headers['content-type'], 'application/json');
  t.ok(Math.abs(Number(delivery!.headers['webhook-timestamp']) - Date.now() / 1000) < 300, 'the timestamp is now, in seconds');
  const body = JSON.parse(delivery!.body);
  t.equal(body.id, id);
  t.equal(body.status, 'succeeded');
  t.equal(body.result, 8);
  const record = await waitUntil(app, id, (i) => i.callback?.status === 'delivered');
  t.same(record.callback, { url: receiver.url, status: 'delivered', attempts: 1, lastError: null });
});

t.test('a failing receiver is retried with backoff until it answers 2xx', async (t) => {
  const clock = new ManualClock();
  const receiver = await startReceiver(t, [500, 503]);
  const app = await startWisp(t, config, tempDir(), { clock });
  await mustDeploy(t, app, 'fails', 'export const config = { retries: 0 };\nexport default () => { throw new Error("no"); };');
  const id = await mustSubmit(t, app, 'fails', null, { 'x-callback-url': receiver.url });
  t.equal((await waitFinal(app, id)).status, 'failed');
  await receiver.received(1);
  const afterFirst = await waitUntil(app, id, (i) => i.callback?.attempts === 1);
  t.equal(afterFirst.callback?.status, 'pending');
  t.equal(afterFirst.callback?.lastError, 'the receiver answered 500');
  clock.advance(749);
  t.equal(receiver.deliveries.length, 1, 'no retry before the backoff (1000 ms base, jitter 0.5 → 750 ms)');
  clock.advance(1);
  await receiver.received(2);
  await waitUntil(app, id, (i) => i.callback?.attempts === 2);
  clock.advance(1500);
  await receiver.received(3);
  const done = await waitUntil(app, id, (i) => i.callback?.status === 'delivered');
  t.equal(done.callback?.attempts, 3);
  const ids = receiver.deliveries.map((d) => d.headers['webhook-id']);
  t.equal(new Set(ids).size, 1, 'every retry carries the same webhook-id');
  for (const delivery of receiver.deliveries) t.ok(verify(delivery));
  t.equal(JSON.parse(receiver.deliveries[2]!.body).error.code, 'FUNCTION_ERROR');
});

t.test('a receiver that never answers 2xx is given up on after maxAttempts', async (t) => {
  const clock = new ManualClock();
  const receiver = await startReceiver(t, [500, 500, 500, 500, 500]);
  const app = await startWisp(t, config, tempDir(), { clock });
  await mustDeploy(t, app, 'fine', 'export default () => "fine";');
  const id = await mustSubmit(t, app, 'fine', null, { 'x-callback-url': receiver.url });
  for (let attempt = 1; attempt <= 4; attempt++) {
    await waitUntil(app, id, (i) => i.callback?.attempts === attempt);
    clock.advance(60_000);
  }
  const done = await waitUntil(app, id, (i) => i.callback?.status === 'failed');
  t.equal(done.callback?.attempts, 4);
  t.equal(receiver.deliveries.length, 4);
});
