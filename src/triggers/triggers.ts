// Webhook triggers: create, list, read, rotate the secret of, and delete them; and turn a verified
// delivery into a durable asynchronous invocation, keyed by the sender's delivery id so that a
// redelivery returns the same invocation.
import { createHash, randomBytes } from 'node:crypto';
import { WispError } from '../errors.js';
import type { Invocations } from '../invocations/invocations.js';
import type { Registry } from '../registry/registry.js';
import type { HmacSettings, TriggerRecord, WebhookScheme } from '../store/records.js';
import type { TriggerStore } from '../store/trigger-store.js';
import { SignatureError, type Headers } from './signatures.js';
import { verifyDelivery } from './webhook-delivery.js';

export interface CreateTriggerRequest {
  type: 'webhook';
  scheme: WebhookScheme;
  secret: string;
  hmac?: Partial<HmacSettings>;
}

export interface TriggerView {
  id: string;
  function: string;
  type: 'webhook';
  scheme: WebhookScheme;
  url: string;
  /** Secrets are never shown: a short fingerprint of each accepted one tells them apart. */
  secrets: { fingerprint: string; expiresAt: string | null }[];
  hmac?: HmacSettings;
  createdAt: string;
}

export interface TriggersOptions {
  store: TriggerStore;
  registry: Registry;
  invocations: Invocations;
  /** How long a rotated-out secret is still accepted, unless the rotation says otherwise. */
  rotationOverlapMs: number;
  now?: () => number;
}

export const fingerprint = (secret: string): string => createHash('sha256').update(secret).digest('hex').slice(0, 12);

function view(record: TriggerRecord, now: number): TriggerView {
  return {
    id: record.id,
    function: record.function,
    type: record.type,
    scheme: record.scheme,
    url: `/hooks/${record.id}`,
    secrets: record.secrets
      .filter((s) => s.expiresAt === null || s.expiresAt > now)
      .map((s) => ({ fingerprint: fingerprint(s.secret), expiresAt: s.expiresAt === null ? null : new Date(s.expiresAt).toISOString() })),
    ...(record.hmac ? { hmac: record.hmac } : {}),
    createdAt: record.createdAt,
  };
}

export class Triggers {
  readonly #o: TriggersOptions;
  readonly #now: () => number;

  constructor(options: TriggersOptions) {
    this.#o = options;
    this.#now = options.now ?? Date.now;
  }

  create(fn: string, request: CreateTriggerRequest): TriggerView {
    const version = this.#o.registry.resolve(fn);
    if (!version.exports.handler) {
      throw new WispError('NO_JSON_HANDLER', `function "${fn}" has no default function export to receive webhook deliveries`);
    }
    if (request.scheme !== 'hmac-sha256' && request.hmac) {
      throw new WispError('INVALID_REQUEST', `"hmac" settings apply to the hmac-sha256 scheme only, not ${request.scheme}`);
    }
    const record: TriggerRecord = {
      id: `trg_${randomBytes(10).toString('hex')}`,
      function: fn,
      type: 'webhook',
      scheme: request.scheme,
      secrets: [{ secret: request.secret, expiresAt: null }],
      hmac: request.scheme === 'hmac-sha256' ? { header: 'x-signature', encoding: 'hex', prefix: '', idHeader: '', ...request.hmac } : null,
      createdAt: new Date(this.#now()).toISOString(),
    };
    this.#o.store.save(record);
    return view(record, this.#now());
  }

  list(fn: string): TriggerView[] {
    this.#o.registry.get(fn);
    return this.#o.store.list(fn).map((record) => view(record, this.#now()));
  }

  get(fn: string, id: string): TriggerView {
    return view(this.#find(fn, id), this.#now());
  }

  delete(fn: string, id: string): void {
    this.#find(fn, id);
    this.#o.store.delete(id);
  }

  /** Makes `secret` the current one; the others stay accepted for the overlap, then expire. */
  rotate(fn: string, id: string, secret: string, overlapMs = this.#o.rotationOverlapMs): TriggerView {
    const record = this.#find(fn, id);
    const now = this.#now();
    const until = now + overlapMs;
    record.secrets = [
      { secret, expiresAt: null },
      ...record.secrets.filter((s) => s.expiresAt === null || s.expiresAt > now).map((s) => ({ secret: s.secret, expiresAt: Math.min(s.expiresAt ?? until, until) })),
    ];
    this.#o.store.save(record);
    return view(record, now);
  }

  /** Verifies a delivery and records it as an invocation; a redelivery yields the first one. */
  async deliver(id: string, body: Buffer, headers: Headers): Promise<{ invocationId: string; existed: boolean }> {
    const trigger = this.#o.store.get(id);
    if (!trigger) throw new WispError('TRIGGER_NOT_FOUND', `no trigger "${id}"`);
    let delivery;
    try {
      delivery = verifyDelivery(trigger, body, headers, this.#now());
    } catch (err) {
      if (err instanceof SignatureError) throw new WispError('INVALID_SIGNATURE', `${trigger.scheme} signature check failed: ${err.message}`);
      throw err;
    }
    const input = { source: trigger.scheme, id: delivery.id, type: delivery.type, headers: plainHeaders(headers), payload: delivery.payload };
    const { invocation, existed } = await this.#o.invocations.submit({
      function: trigger.function,
      input,
      triggerId: trigger.id,
      // A redelivery carries new timestamps and signatures: only the body says it is the same event.
      requestHash: createHash('sha256').update(body).digest('base64url'),
      ...(delivery.id === null ? {} : { idempotencyKey: delivery.id }),
    });
    return { invocationId: invocation.id, existed };
  }

  #find(fn: string, id: string): TriggerRecord {
    const record = this.#o.store.get(id);
    if (!record || record.function !== fn) throw new WispError('TRIGGER_NOT_FOUND', `function "${fn}" has no trigger "${id}"`);
    return record;
  }
}

function plainHeaders(headers: Headers): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) if (value !== undefined) out[name] = Array.isArray(value) ? value.join(', ') : value;
  return out;
}
