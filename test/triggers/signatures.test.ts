// Signature checks against the senders' published test vectors, and every way a check fails.
import t from 'tap';
import { createHmac } from 'node:crypto';
import { SignatureError, verifyGithub, verifyHmac, verifyStandard, verifyStripe } from '../../dist/triggers/signatures.js';

t.test('GitHub: the vector from GitHub\'s "Validating webhook deliveries" docs', async (t) => {
  const body = Buffer.from('Hello, World!');
  const headers = { 'x-hub-signature-256': 'sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17' };
  t.doesNotThrow(() => verifyGithub(body, headers, ["It's a Secret to Everybody"]));
  t.doesNotThrow(() => verifyGithub(body, headers, ['old secret', "It's a Secret to Everybody"]), 'any accepted secret may match');
  t.throws(() => verifyGithub(body, headers, ['wrong']), { name: 'SignatureError', message: /does not match/ });
  t.throws(() => verifyGithub(body, {}, ['x']), { message: /X-Hub-Signature-256 header is missing/ });
  t.throws(() => verifyGithub(body, { 'x-hub-signature-256': 'sha1=abcd' }, ['x']), { message: /must start with "sha256="/ });
  t.throws(() => verifyGithub(body, { 'x-hub-signature-256': 'sha256=zz' }, ['x']), { message: /not hex/ });
  t.throws(() => verifyGithub(body, { 'x-hub-signature-256': 'sha256=abcd' }, ['x']), { message: /2 bytes; an HMAC-SHA256 has 32/ });
  t.throws(() => verifyGithub(Buffer.from('Hello, World?'), headers, ["It's a Secret to Everybody"]), SignatureError, 'a changed body fails');
});

t.test('Standard Webhooks: the vector from the specification\'s reference libraries', async (t) => {
  const body = Buffer.from('{"test": 2432232314}');
  const headers = {
    'webhook-id': 'msg_p5jXN8AQM9LWM0D4loKWxJek',
    'webhook-timestamp': '1614265330',
    'webhook-signature': 'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=',
  };
  const secret = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
  t.doesNotThrow(() => verifyStandard(body, headers, [secret], 1614265330));
  t.doesNotThrow(() => verifyStandard(body, { ...headers, 'webhook-signature': `v1,bm90IGl0 ${headers['webhook-signature']}` }, [secret], 1614265330), 'any of several signatures');
  t.throws(() => verifyStandard(body, headers, [secret], 1614265330 + 301), { message: /301 s old/ });
  t.throws(() => verifyStandard(body, headers, [secret], 1614265330 - 301), { message: /in the future/ });
  t.throws(() => verifyStandard(body, { ...headers, 'webhook-signature': 'v2,abc' }, [secret], 1614265330), { message: /no "v1,<base64>"/ });
  t.throws(() => verifyStandard(body, { ...headers, 'webhook-id': 'msg_other' }, [secret], 1614265330), { message: /no v1 signature .* matches/ });
  t.throws(() => verifyStandard(body, { ...headers, 'webhook-timestamp': 'soon' }, [secret], 1614265330), { message: /unix seconds/ });
});

t.test('Stripe: t=…,v1=… over "{t}.{body}", computed here with node:crypto', async (t) => {
  const secret = 'whsec_test_secret';
  const body = Buffer.from('{"id":"evt_1","type":"charge.succeeded"}');
  const now = 1_700_000_000;
  const sign = (ts: number, key = secret) => createHmac('sha256', key).update(`${ts}.${body}`).digest('hex');
  t.doesNotThrow(() => verifyStripe(body, { 'stripe-signature': `t=${now},v1=${sign(now)}` }, [secret], now));
  t.doesNotThrow(() => verifyStripe(body, { 'stripe-signature': `t=${now},v1=${sign(now, 'rolled')},v1=${sign(now)},v0=ff` }, [secret], now), 'any v1 may match');
  t.doesNotThrow(() => verifyStripe(body, { 'stripe-signature': `t=${now - 300},v1=${sign(now - 300)}` }, [secret], now), '300 s is within tolerance');
  t.throws(() => verifyStripe(body, { 'stripe-signature': `t=${now - 301},v1=${sign(now - 301)}` }, [secret], now), { message: /301 s old/ });
  t.throws(() => verifyStripe(body, { 'stripe-signature': `v1=${sign(now)}` }, [secret], now), { message: /no t=/ });
  t.throws(() => verifyStripe(body, { 'stripe-signature': `t=${now}` }, [secret], now), { message: /no v1=/ });
  t.throws(() => verifyStripe(body, { 'stripe-signature': `t=${now},v1=${sign(now, 'wrong')}` }, [secret], now), { message: /matches/ });
});

t.test('generic hmac-sha256: header, encoding and prefix as configured', async (t) => {
  const body = Buffer.from('payload');
  const mac = createHmac('sha256', 'k3y-k3y-k3y').update(body).digest();
  const options = { header: 'X-Sig', encoding: 'base64' as const, prefix: 'sha256=' };
  t.doesNotThrow(() => verifyHmac(body, { 'x-sig': `sha256=${mac.toString('base64')}` }, ['k3y-k3y-k3y'], options));
  t.throws(() => verifyHmac(body, { 'x-sig': mac.toString('base64') }, ['k3y-k3y-k3y'], options), { message: /must start with "sha256="/ });
  t.throws(() => verifyHmac(body, { 'x-sig': `sha256=${mac.toString('hex')}` }, ['k3y-k3y-k3y'], options), SignatureError, 'hex where base64 is configured');
  t.doesNotThrow(() => verifyHmac(body, { 'x-sig': mac.toString('hex') }, ['k3y-k3y-k3y'], { header: 'X-Sig', encoding: 'hex', prefix: '' }));
});
