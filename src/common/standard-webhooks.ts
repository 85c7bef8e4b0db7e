// The Standard Webhooks signing scheme (https://www.standardwebhooks.com/), shared by the
// callbacks Wisp sends and the `standard` webhook triggers it verifies.
import { createHmac } from 'node:crypto';

/** The key bytes of a secret: base64 after an optional "whsec_". */
export function standardKey(secret: string): Buffer {
  return Buffer.from(secret.replace(/^whsec_/, ''), 'base64');
}

/** HMAC-SHA256 of "{id}.{timestamp}.{body}": what a "v1," signature carries, base64-encoded. */
export function standardSignature(key: Buffer, id: string, timestamp: string, body: string | Buffer): Buffer {
  return createHmac('sha256', key).update(`${id}.${timestamp}.`).update(body).digest();
}
