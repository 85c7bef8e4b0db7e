// Webhook signature checks, one per sender, each following the sender's published scheme and
// working on the raw request bytes. Comparisons are constant-time. A failed check says which
// check failed, so the sender's operator can fix it; it never says what the right value was.
import { createHmac, timingSafeEqual } from 'node:crypto';
import { standardKey, standardSignature } from '../common/standard-webhooks.js';

export type Headers = Record<string, string | string[] | undefined>;

export interface HmacOptions {
  /** The header holding the signature, e.g. "x-signature". */
  header: string;
  encoding: 'hex' | 'base64';
  /** Text before the signature in the header, e.g. "sha256=". */
  prefix: string;
}

/** Why a delivery was refused; the message goes back in the 401. */
export class SignatureError extends Error {
  override name = 'SignatureError';
}

const hmac = (key: string | Buffer, text: string | Buffer): Buffer => createHmac('sha256', key).update(text).digest();

function header(headers: Headers, name: string): string {
  const value = headers[name.toLowerCase()];
  if (value === undefined) throw new SignatureError(`the ${name} header is missing`);
  if (Array.isArray(value)) throw new SignatureError(`the ${name} header is sent more than once`);
  return value;
}

function decode(text: string, encoding: 'hex' | 'base64', what: string): Buffer {
  const valid = encoding === 'hex' ? /^[0-9a-fA-F]+$/.test(text) && text.length % 2 === 0 : /^[A-Za-z0-9+/]+={0,2}$/.test(text);
  if (!valid) throw new SignatureError(`${what} is not ${encoding}`);
  return Buffer.from(text, encoding);
}

/** Constant-time comparison; a length mismatch is its own failure, checked first. */
function matches(given: Buffer, expected: Buffer): boolean {
  return given.length === expected.length && timingSafeEqual(given, expected);
}

/** True when any of `secrets` signed `content` as `given`. */
function signedByAny(secrets: readonly (string | Buffer)[], content: string | Buffer, given: Buffer): boolean {
  return secrets.some((secret) => matches(given, hmac(secret, content)));
}

function checkLength(given: Buffer, what: string): void {
  if (given.length !== 32) throw new SignatureError(`${what} has ${given.length} bytes; an HMAC-SHA256 has 32`);
}

/** GitHub: X-Hub-Signature-256: sha256=<hex HMAC-SHA256 of the body>. */
export function verifyGithub(body: Buffer, headers: Headers, secrets: readonly string[]): void {
  const value = header(headers, 'X-Hub-Signature-256');
  if (!value.startsWith('sha256=')) throw new SignatureError('X-Hub-Signature-256 must start with "sha256="');
  const given = decode(value.slice('sha256='.length), 'hex', 'the X-Hub-Signature-256 signature');
  checkLength(given, 'the X-Hub-Signature-256 signature');
  if (!signedByAny(secrets, body, given)) throw new SignatureError('X-Hub-Signature-256 does not match the body and the trigger secret');
}

/** Stripe: Stripe-Signature: t=<unix>,v1=<hex>[,v1=<hex>...] over "{t}.{body}", 300 s tolerance. */
export function verifyStripe(body: Buffer, headers: Headers, secrets: readonly string[], nowSeconds: number, toleranceSeconds = 300): void {
  const value = header(headers, 'Stripe-Signature');
  let timestamp: string | undefined;
  const signatures: Buffer[] = [];
  for (const part of value.split(',')) {
    const at = part.indexOf('=');
    const key = part.slice(0, at).trim();
    const item = part.slice(at + 1).trim();
    if (key === 't') timestamp = item;
    else if (key === 'v1') signatures.push(decode(item, 'hex', 'a v1 signature in Stripe-Signature'));
  }
  if (timestamp === undefined || !/^\d+$/.test(timestamp)) throw new SignatureError('Stripe-Signature has no t=<unix seconds> timestamp');
  if (signatures.length === 0) throw new SignatureError('Stripe-Signature has no v1= signature');
  if (nowSeconds - Number(timestamp) > toleranceSeconds) {
    throw new SignatureError(`the Stripe-Signature timestamp is ${nowSeconds - Number(timestamp)} s old; at most ${toleranceSeconds} s is accepted`);
  }
  const content = Buffer.concat([Buffer.from(`${timestamp}.`), body]);
  if (!signatures.some((given) => signedByAny(secrets, content, given))) {
    throw new SignatureError('no v1 signature in Stripe-Signature matches the body and the trigger secret');
  }
}

/**
 * Standard Webhooks: webhook-id, webhook-timestamp, and webhook-signature holding space-separated
 * "v1,<base64>" values over "{id}.{timestamp}.{body}"; 5 minutes of tolerance either way.
 */
export function verifyStandard(body: Buffer, headers: Headers, secrets: readonly string[], nowSeconds: number, toleranceSeconds = 300): void {
  const id = header(headers, 'webhook-id');
  const timestamp = header(headers, 'webhook-timestamp');
  const value = header(headers, 'webhook-signature');
  if (!/^\d+$/.test(timestamp)) throw new SignatureError('webhook-timestamp must be unix seconds');
  const skew = nowSeconds - Number(timestamp);
  if (Math.abs(skew) > toleranceSeconds) {
    throw new SignatureError(`webhook-timestamp is ${Math.abs(skew)} s ${skew > 0 ? 'old' : 'in the future'}; at most ${toleranceSeconds} s either way is accepted`);
  }
  const signatures = value
    .split(' ')
    .filter((part) => part.startsWith('v1,'))
    .map((part) => decode(part.slice(3), 'base64', 'a v1 signature in webhook-signature'));
  if (signatures.length === 0) throw new SignatureError('webhook-signature has no "v1,<base64>" signature');
  const expected = secrets.map((secret) => standardSignature(standardKey(secret), id, timestamp, body));
  if (!signatures.some((given) => expected.some((signature) => matches(given, signature)))) {
    throw new SignatureError('no v1 signature in webhook-signature matches the body and the trigger secret');
  }
}

/** Generic: one header holding the HMAC-SHA256 of the body, hex or base64, after an optional prefix. */
export function verifyHmac(body: Buffer, headers: Headers, secrets: readonly string[], options: HmacOptions): void {
  const value = header(headers, options.header);
  if (!value.startsWith(options.prefix)) throw new SignatureError(`${options.header} must start with "${options.prefix}"`);
  const given = decode(value.slice(options.prefix.length), options.encoding, `the ${options.header} signature`);
  checkLength(given, `the ${options.header} signature`);
  if (!signedByAny(secrets, body, given)) throw new SignatureError(`${options.header} does not match the body and the trigger secret`);
}
