// What a verified delivery means, per sender: its delivery id (the idempotency key), its event
// type, and the function's input {source, id, type, headers, payload}.
import type { HmacSettings, WebhookScheme, WebhookTriggerRecord } from '../store/records.js';
import { verifyGithub, verifyHmac, verifyStandard, verifyStripe, type Headers } from './signatures.js';

export interface Delivery {
  /** The sender's delivery id; null when the sender gives none (then every delivery runs). */
  id: string | null;
  type: string | null;
  payload: unknown;
}

/** The body as JSON when it is JSON, otherwise as text. */
function parsePayload(body: Buffer): unknown {
  const text = body.toString('utf8');
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

const field = (payload: unknown, name: string): string | null => {
  const value = (payload as Record<string, unknown> | null)?.[name];
  return typeof value === 'string' ? value : null;
};

const single = (headers: Headers, name: string): string | null => {
  const value = headers[name];
  return typeof value === 'string' && value !== '' ? value : null;
};

/** Checks the signature (throws SignatureError) and reads the delivery. */
export function verifyDelivery(trigger: WebhookTriggerRecord, body: Buffer, headers: Headers, now: number): Delivery {
  const secrets = trigger.secrets.filter((s) => s.expiresAt === null || s.expiresAt > now).map((s) => s.secret);
  const nowSeconds = Math.floor(now / 1000);
  const verify: Record<WebhookScheme, () => void> = {
    github: () => verifyGithub(body, headers, secrets),
    stripe: () => verifyStripe(body, headers, secrets, nowSeconds),
    standard: () => verifyStandard(body, headers, secrets, nowSeconds),
    'hmac-sha256': () => verifyHmac(body, headers, secrets, trigger.hmac as HmacSettings),
  };
  verify[trigger.scheme]();
  const payload = parsePayload(body);
  switch (trigger.scheme) {
    case 'github':
      return { id: single(headers, 'x-github-delivery'), type: single(headers, 'x-github-event'), payload };
    case 'stripe':
      return { id: field(payload, 'id'), type: field(payload, 'type'), payload };
    case 'standard':
      return { id: single(headers, 'webhook-id'), type: field(payload, 'type'), payload };
    case 'hmac-sha256': {
      const idHeader = trigger.hmac!.idHeader;
      return { id: idHeader ? single(headers, idHeader.toLowerCase()) : null, type: null, payload };
    }
  }
}
