// One delivery of a callback: a JSON POST signed the Standard Webhooks way (webhook-id,
// webhook-timestamp, webhook-signature). Used for an invocation's callback and a batch's.
import { request } from 'undici';
import { standardSignature } from '../common/standard-webhooks.js';
import type { Clock } from '../common/clock.js';
import type { CallbackState } from '../store/records.js';
import { backoffDelay, type Backoff } from './retry-policy.js';

export interface SignedPost {
  url: string;
  /** The same on every retry of one delivery, so the receiver can drop a duplicate. */
  id: string;
  body: string;
  key: Buffer;
  nowSeconds: number;
  timeoutMs: number;
}

/** Posts it; null when the receiver answered 2xx, else why not. */
export async function postSigned(post: SignedPost): Promise<string | null> {
  const timestamp = String(post.nowSeconds);
  try {
    const response = await request(post.url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'user-agent': 'wisp-callback',
        'webhook-id': post.id,
        'webhook-timestamp': timestamp,
        'webhook-signature': `v1,${standardSignature(post.key, post.id, timestamp, post.body).toString('base64')}`,
      },
      body: post.body,
      headersTimeout: post.timeoutMs,
      bodyTimeout: post.timeoutMs,
    });
    await response.body.dump();
    return response.statusCode < 200 || response.statusCode > 299 ? `the receiver answered ${response.statusCode}` : null;
  } catch (err) {
    return `cannot reach the receiver: ${(err as Error).message}`;
  }
}

/** How callbacks are delivered: signed with `secret`, retried with backoff up to maxAttempts. */
export interface CallbackDeliveryOptions {
  clock: Clock;
  /** A Standard Webhooks secret: `whsec_` and the base64 of the key bytes. */
  secret: string;
  maxAttempts: number;
  backoff: Backoff;
  timeoutMs: number;
  log: (message: string) => void;
}

export interface DeliveryRetry {
  maxAttempts: number;
  backoff: Backoff;
  now: number;
  /** A number in [0, 1) for the backoff's jitter. */
  random: number;
}

/** The callback's state after a delivery that ended with `failure` (null: delivered). */
export function afterDelivery(callback: CallbackState, failure: string | null, retry: DeliveryRetry): CallbackState {
  const state = { ...callback, attempts: callback.attempts + 1, lastError: failure };
  if (failure === null) return { ...state, status: 'delivered', nextAt: null };
  if (state.attempts >= retry.maxAttempts) return { ...state, status: 'failed', nextAt: null };
  return { ...state, nextAt: retry.now + backoffDelay(state.attempts, retry.backoff, retry.random) };
}
