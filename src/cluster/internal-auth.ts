// How nodes prove to each other that a request on an internal route comes from the cluster: an
// HMAC-SHA256 with the cluster secret over the time, the method, the path and the body's bytes.
// A signature more than MAX_SKEW_MS from the receiver's clock is refused, which bounds replays.
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

/** The media type of an internal request's body (JSON, read as bytes to check the signature). */
export const INTERNAL_TYPE = 'application/vnd.wisp.internal+json';
export const TIME_HEADER = 'x-wisp-cluster-time';
export const SIGNATURE_HEADER = 'x-wisp-cluster-signature';
const MAX_SKEW_MS = 5 * 60_000;

function signature(secret: string, time: string, method: string, path: string, body: Uint8Array): string {
  const bodyHash = createHash('sha256').update(body).digest('hex');
  return createHmac('sha256', secret).update(`${time}\n${method}\n${path}\n${bodyHash}`).digest('base64url');
}

/** The headers that sign a request. */
export function signRequest(secret: string, method: string, path: string, body: Uint8Array, now = Date.now()): Record<string, string> {
  const time = String(now);
  return { [TIME_HEADER]: time, [SIGNATURE_HEADER]: signature(secret, time, method, path, body) };
}

/** Why a request is not from the cluster, or null when it is. */
export function refusal(secret: string, headers: Record<string, string | string[] | undefined>, method: string, path: string, body: Uint8Array, now = Date.now()): string | null {
  const time = headers[TIME_HEADER];
  const given = headers[SIGNATURE_HEADER];
  if (typeof time !== 'string' || typeof given !== 'string') return `internal routes are for the nodes of the cluster: the request has no ${SIGNATURE_HEADER}`;
  if (!/^\d+$/.test(time) || Math.abs(now - Number(time)) > MAX_SKEW_MS) return `the request's ${TIME_HEADER} is not within ${MAX_SKEW_MS / 60_000} minutes of this node's clock`;
  const expected = Buffer.from(signature(secret, time, method, path, body));
  const actual = Buffer.from(given);
  if (expected.length !== actual.length || !timingSafeEqual(expected, actual)) return 'the cluster signature is not valid (is WISP_CLUSTER_SECRET the same on every node?)';
  return null;
}
