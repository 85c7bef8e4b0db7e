// Webhook triggers over HTTP: create, read (secrets never shown), rotate, delete; a verified
// delivery is answered 202 with an invocation id at once, the function gets
// {source, id, type, headers, payload}, and a redelivery (also after a restart) runs nothing new.
import t, { type Test } from 'tap';
import { createHmac } from 'node:crypto';
import { join } from 'node:path';
import { waitFinal } from '../helpers/invocations.js';
import { startGate } from '../helpers/gate.js';
import { assertProblem, mustDeploy, startWisp, type App } from '../helpers/wisp.js';
import { tempDir } from '../helpers/temp-dir.js';

const GITHUB_SECRET = 'a github secret';
const echo = 'let runs = 0;\nexport default (input: unknown) => ({ runs: ++runs, input });';

async function mustTrigger(t: Test, app: App, fn: string, body: Record<string, unknown>) {
  const res = await app.inject({ method: 'POST', url: `/v1/functions/${fn}/triggers`, headers: { 'content-type': 'application/json' }, payload: JSON.stringify(body) });
  if (res.statusCode !== 201) t.fail(`create trigger: ${res.statusCode} ${res.body}`);
  return res.json() as { id: string; url: string; scheme: string; secrets: { fingerprint: string; expiresAt: string | null }[] };
}

function githubDelivery(app: App, url: string, body: string, delivery = 'd-1', secret = GITHUB_SECRET) {
  const signature = `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
  return app.inject({
    method: 'POST',
    url,
    headers: { 'content-type': 'application/json', 'x-github-event': 'push', 'x-github-delivery': delivery, 'x-hub-signature-256': signature },
    payload: body,
  });
}

t.test('a GitHub delivery becomes an invocation with the event, delivery id and payload', async (t) => {
  const app = await startWisp(t);
  await mustDeploy(t, app, 'on-push', echo);
  const trigger = await mustTrigger(t, app, 'on-push', { type: 'webhook', scheme: 'github', secret: GITHUB_SECRET });
  t.match(trigger.id, /^trg_[0-9a-f]{20}$/);
  t.equal(trigger.url, `/hooks/${trigger.id}`);
  t.notOk(JSON.stringify(trigger).includes(GITHUB_SECRET), 'the secret is never returned');
  t.match(trigger.secrets[0]!.fingerprint, /^[0-9a-f]{12}$/);
  const body = JSON.stringify({ ref: 'refs/heads/main', commits: [1, 2] });
  const res = await githubDelivery(app, trigger.url, body);
  t.equal(res.statusCode, 202, res.body);
  const { invocationId } = res.json();
  const done = await waitFinal(app, invocationId);
  t.equal(done.status, 'succeeded');
  t.equal(done.triggerId, trigger.id);
  const input = (done.result as { input: { source: string; id: string; type: string; headers: Record<string, string>; payload: unknown } }).input;
  t.equal(input.source, 'github');
  t.equal(input.id, 'd-1');
  t.equal(input.type, 'push');
  t.equal(input.headers['x-github-event'], 'push');
  t.same(input.payload, JSON.parse(body));
  const listed = (await app.inject(`/v1/invocations?function=on-push`)).json().invocations;
  t.equal(listed[0].triggerId, trigger.id, 'the invocation list shows the trigger');
});

t.test('a redelivery is acknowledged with the same invocation and does not run again, also after a restart', async (t) => {
  const dir = join(tempDir(), 'data');
  const before = await startWisp(t, {}, dir);
  await mustDeploy(t, before, 'on-push', echo);
  const { url } = await mustTrigger(t, before, 'on-push', { type: 'webhook', scheme: 'github', secret: GITHUB_SECRET });
  const first = (await githubDelivery(before, url, '{"n":1}', 'same-delivery')).json().invocationId;
  await waitFinal(before, first);
  const again = await githubDelivery(before, url, '{"n":1}', 'same-delivery');
  t.equal(again.json().invocationId, first);
  t.equal(again.headers['idempotent-replayed'], 'true');
  await before.close();
  const after = await startWisp(t, {}, dir);
  const afterRestart = await githubDelivery(after, url, '{"n":1}', 'same-delivery');
  t.equal(afterRestart.statusCode, 202);
  t.equal(afterRestart.json().invocationId, first, 'the same invocation after a restart');
  const other = (await githubDelivery(after, url, '{"n":2}', 'another-delivery')).json().invocationId;
  t.equal(((await waitFinal(after, other)).result as { runs: number }).runs, 1, 'a new delivery runs (first run in this process)');
  t.equal((await after.inject('/v1/invocations?function=on-push')).json().invocations.length, 2, 'two invocations in all');
});

t.test('the 202 comes at once, even when the function takes long', async (t) => {
  const app = await startWisp(t);
  const gate = await startGate(t);
  await mustDeploy(t, app, 'slow', `export default async () => (await fetch(${JSON.stringify(gate.url)})).text();`);
  const { url } = await mustTrigger(t, app, 'slow', { type: 'webhook', scheme: 'github', secret: GITHUB_SECRET });
  const res = await githubDelivery(app, url, '{}');
  t.equal(res.statusCode, 202, 'answered while the function is still held');
  await gate.arrived(1);
  gate.open();
  t.equal((await waitFinal(app, res.json().invocationId)).status, 'succeeded');
});

t.test('bad signatures are 401 INVALID_SIGNATURE saying which check failed; unknown triggers 404', async (t) => {
  const app = await startWisp(t);
  await mustDeploy(t, app, 'on-push', echo);
  const { url, id } = await mustTrigger(t, app, 'on-push', { type: 'webhook', scheme: 'github', secret: GITHUB_SECRET });
  const wrong = assertProblem(t, await githubDelivery(app, url, '{}', 'd', 'not the secret'), 401, 'INVALID_SIGNATURE');
  t.match(wrong.detail, /does not match/);
  const missing = assertProblem(t, await app.inject({ method: 'POST', url, payload: '{}' }), 401, 'INVALID_SIGNATURE');
  t.match(missing.detail, /X-Hub-Signature-256 header is missing/);
  const malformed = await app.inject({ method: 'POST', url, headers: { 'x-hub-signature-256': 'sha256=xyz' }, payload: '{}' });
  t.match(assertProblem(t, malformed, 401, 'INVALID_SIGNATURE').detail, /not hex/);
  assertProblem(t, await app.inject({ method: 'POST', url: '/hooks/trg_00000000000000000000', payload: '{}' }), 404, 'TRIGGER_NOT_FOUND');
  assertProblem(t, await app.inject({ method: 'POST', url: '/hooks/nope', payload: '{}' }), 400, 'INVALID_REQUEST');
  t.same((await app.inject('/v1/invocations')).json().invocations, [], 'no refused delivery was recorded');
  t.equal((await app.inject({ method: 'DELETE', url: `/v1/functions/on-push/triggers/${id}` })).statusCode, 204);
  assertProblem(t, await githubDelivery(app, url, '{}'), 404, 'TRIGGER_NOT_FOUND');
});

t.test('Stripe and Standard Webhooks deliveries: ids and types from the payload and headers', async (t) => {
  const app = await startWisp(t);
  await mustDeploy(t, app, 'events', echo);
  const stripe = await mustTrigger(t, app, 'events', { type: 'webhook', scheme: 'stripe', secret: 'whsec_stripe_test' });
  const body = JSON.stringify({ id: 'evt_123', type: 'invoice.paid', data: {} });
  const ts = Math.floor(Date.now() / 1000);
  const sig = createHmac('sha256', 'whsec_stripe_test').update(`${ts}.${body}`).digest('hex');
  const res = await app.inject({ method: 'POST', url: stripe.url, headers: { 'stripe-signature': `t=${ts},v1=${sig}` }, payload: body });
  t.equal(res.statusCode, 202, res.body);
  const input = ((await waitFinal(app, res.json().invocationId)).result as { input: { id: string; type: string; source: string } }).input;
  t.same([input.source, input.id, input.type], ['stripe', 'evt_123', 'invoice.paid']);

  const key = Buffer.from('standard webhooks test key 32 b!');
  const standard = await mustTrigger(t, app, 'events', { type: 'webhook', scheme: 'standard', secret: `whsec_${key.toString('base64')}` });
  const text = 'not json at all';
  const signature = createHmac('sha256', key).update(`msg_1.${ts}.${text}`).digest('base64');
  const sres = await app.inject({
    method: 'POST',
    url: standard.url,
    headers: { 'content-type': 'text/plain', 'webhook-id': 'msg_1', 'webhook-timestamp': String(ts), 'webhook-signature': `v1,${signature}` },
    payload: text,
  });
  t.equal(sres.statusCode, 202, sres.body);
  const sinput = ((await waitFinal(app, sres.json().invocationId)).result as { input: { id: string; payload: unknown; type: unknown } }).input;
  t.equal(sinput.id, 'msg_1');
  t.equal(sinput.payload, text, 'a body that is not JSON arrives as text');
  t.equal(sinput.type, null);
  const old = await app.inject({
    method: 'POST',
    url: standard.url,
    headers: { 'webhook-id': 'msg_2', 'webhook-timestamp': String(ts - 600), 'webhook-signature': `v1,${createHmac('sha256', key).update(`msg_2.${ts - 600}.${text}`).digest('base64')}` },
    payload: text,
  });
  // `ts` was read earlier in the test: a second may have ticked over since (600 or 601 s).
  t.match(assertProblem(t, old, 401, 'INVALID_SIGNATURE').detail, /60[01] s old/);
});

t.test('rotating a secret: the new one works at once, the old one for the overlap only', async (t) => {
  const app = await startWisp(t);
  await mustDeploy(t, app, 'on-push', echo);
  const { id, url } = await mustTrigger(t, app, 'on-push', { type: 'webhook', scheme: 'github', secret: GITHUB_SECRET });
  const rotate = (body: unknown) =>
    app.inject({ method: 'POST', url: `/v1/functions/on-push/triggers/${id}/rotate`, headers: { 'content-type': 'application/json' }, payload: JSON.stringify(body) });
  const rotated = await rotate({ secret: 'the next secret', overlapSeconds: 3600 });
  t.equal(rotated.statusCode, 200, rotated.body);
  t.equal(rotated.json().secrets.length, 2);
  t.type(rotated.json().secrets[1].expiresAt, 'string');
  t.equal((await githubDelivery(app, url, '{}', 'a', 'the next secret')).statusCode, 202);
  t.equal((await githubDelivery(app, url, '{}', 'b', GITHUB_SECRET)).statusCode, 202, 'the old secret still works in the overlap');
  await rotate({ secret: 'the third secret', overlapSeconds: 0 });
  assertProblem(t, await githubDelivery(app, url, '{}', 'c', GITHUB_SECRET), 401, 'INVALID_SIGNATURE');
  assertProblem(t, await githubDelivery(app, url, '{}', 'd', 'the next secret'), 401, 'INVALID_SIGNATURE');
  t.equal((await githubDelivery(app, url, '{}', 'e', 'the third secret')).statusCode, 202);
  const read = (await app.inject(`/v1/functions/on-push/triggers/${id}`)).json();
  t.equal(read.secrets.length, 1, 'expired secrets are no longer listed');
  t.equal((await app.inject('/v1/functions/on-push/triggers')).json().triggers.length, 1);
});

t.test('bad trigger definitions are 400, unknown functions and triggers 404', async (t) => {
  const app = await startWisp(t);
  await mustDeploy(t, app, 'on-push', echo);
  const create = (fn: string, body: unknown) =>
    app.inject({ method: 'POST', url: `/v1/functions/${fn}/triggers`, headers: { 'content-type': 'application/json' }, payload: JSON.stringify(body) });
  assertProblem(t, await create('on-push', { type: 'webhook', scheme: 'gitlab', secret: 'abcdefgh' }), 400, 'INVALID_REQUEST');
  assertProblem(t, await create('on-push', { type: 'webhook', scheme: 'github', secret: 'short' }), 400, 'INVALID_REQUEST');
  assertProblem(t, await create('on-push', { type: 'webhook', scheme: 'github', secret: 'abcdefgh', hmac: { header: 'x' } }), 400, 'INVALID_REQUEST');
  assertProblem(t, await create('nope', { type: 'webhook', scheme: 'github', secret: 'abcdefgh' }), 404, 'FUNCTION_NOT_FOUND');
  assertProblem(t, await app.inject('/v1/functions/on-push/triggers/trg_00000000000000000000'), 404, 'TRIGGER_NOT_FOUND');
  assertProblem(t, await app.inject('/v1/functions/nope/triggers'), 404, 'FUNCTION_NOT_FOUND');
});

t.test('a delivery that cannot be recorded is a 5xx, so the sender retries it', async (t) => {
  const app = await startWisp(t);
  await mustDeploy(t, app, 'on-push', echo);
  const { url } = await mustTrigger(t, app, 'on-push', { type: 'webhook', scheme: 'github', secret: GITHUB_SECRET });
  // The store refuses the write, as a full or failing disk would.
  const invocations = app.wisp.invocations as unknown as { submit: () => Promise<never> };
  const original = invocations.submit;
  invocations.submit = () => Promise.reject(new Error('SQLITE_FULL: database or disk is full'));
  const res = await githubDelivery(app, url, '{}', 'lost-write');
  invocations.submit = original;
  t.ok(res.statusCode >= 500, `answered ${res.statusCode}, not 2xx`);
  t.equal(res.json().code, 'INTERNAL_ERROR');
  const retried = await githubDelivery(app, url, '{}', 'lost-write');
  t.equal(retried.statusCode, 202, 'the sender\'s retry is recorded');
  t.notOk(retried.headers['idempotent-replayed'], 'the failed attempt left nothing behind');
});
