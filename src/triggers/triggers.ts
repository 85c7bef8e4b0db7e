// Triggers: create, list, read and delete them, rotate a webhook's secret, and turn a verified
// webhook delivery into a durable asynchronous invocation, keyed by the sender's delivery id so
// that a redelivery returns the same invocation. Cron triggers are run by cron-scheduler.ts.
import { createHash, randomBytes } from 'node:crypto';
import { WispError } from '../errors.js';
import type { Invocations } from '../invocations/invocations.js';
import type { Registry } from '../registry/registry.js';
import type { CronTriggerRecord, HmacSettings, TriggerRecord, WebhookScheme, WebhookTriggerRecord } from '../store/records.js';
import type { TriggerStore } from '../store/trigger-store.js';
import { SignatureError, type Headers } from './signatures.js';
import { checkSchedule, type CronScheduler } from './cron-scheduler.js';
import { triggerView, type TriggerView } from './trigger-view.js';
import { verifyDelivery } from './webhook-delivery.js';

export type CreateTriggerRequest =
  | { type: 'webhook'; scheme: WebhookScheme; secret: string; hmac?: Partial<HmacSettings> }
  | { type: 'cron'; schedule: string; timezone?: string; input?: unknown; overlap?: 'skip' | 'allow'; missed?: 'once' | 'skip' };

export interface TriggersOptions {
  store: TriggerStore;
  registry: Registry;
  invocations: Invocations;
  cron: CronScheduler;
  /** How long a rotated-out secret is still accepted, unless the rotation says otherwise. */
  rotationOverlapMs: number;
  now: () => number;
  /** Told after a cron trigger is created or deleted here: in a cluster, every node arms the same crons. */
  changed?: (id: string) => void;
}

export class Triggers {
  readonly #o: TriggersOptions;

  constructor(options: TriggersOptions) {
    this.#o = options;
  }

  async create(fn: string, request: CreateTriggerRequest): Promise<TriggerView> {
    const version = this.#o.registry.resolve(fn);
    if (!version.exports.handler) {
      throw new WispError('NO_JSON_HANDLER', `function "${fn}" has no default function export for a trigger to run`);
    }
    const id = `trg_${randomBytes(10).toString('hex')}`;
    const createdAt = this.#o.now();
    if (request.type === 'cron') {
      const record: CronTriggerRecord = {
        id,
        function: fn,
        type: 'cron',
        schedule: request.schedule,
        timezone: request.timezone ?? null,
        input: request.input ?? null,
        overlap: request.overlap ?? 'skip',
        missed: request.missed ?? 'once',
        lastScheduledAt: null,
        lastInvocationId: null,
        createdAt,
      };
      checkSchedule(record, this.#o.now());
      await this.#o.store.create(record);
      this.#o.cron.add(record);
      this.#o.changed?.(id);
      return this.#view(record);
    }
    if (request.scheme !== 'hmac-sha256' && request.hmac) {
      throw new WispError('INVALID_REQUEST', `"hmac" settings apply to the hmac-sha256 scheme only, not ${request.scheme}`);
    }
    const record: WebhookTriggerRecord = {
      id,
      function: fn,
      type: 'webhook',
      scheme: request.scheme,
      secrets: [{ secret: request.secret, expiresAt: null }],
      hmac: request.scheme === 'hmac-sha256' ? { header: 'x-signature', encoding: 'hex', prefix: '', idHeader: '', ...request.hmac } : null,
      createdAt,
    };
    await this.#o.store.create(record);
    return this.#view(record);
  }

  #view(record: TriggerRecord): TriggerView {
    return triggerView(record, this.#o.now(), record.type === 'cron' ? this.#o.cron.nextRunAt(record.id) : undefined);
  }

  /** At start: cron triggers are armed again, and deal with the times they missed. */
  async recover(): Promise<void> {
    this.#o.cron.recover(await this.#o.store.crons());
  }

  close(): void {
    this.#o.cron.close();
  }

  async list(fn: string): Promise<TriggerView[]> {
    this.#o.registry.get(fn);
    return (await this.#o.store.list(fn)).map((record) => this.#view(record));
  }

  async get(fn: string, id: string): Promise<TriggerView> {
    return this.#view(await this.#find(fn, id));
  }

  async delete(fn: string, id: string): Promise<void> {
    const record = await this.#find(fn, id);
    this.#o.cron.remove(id);
    await this.#o.store.delete(id);
    if (record.type === 'cron') this.#o.changed?.(id);
  }

  /**
   * Reads a cron trigger again (another node created or deleted it) and arms or disarms it
   * here. Every node arms every cron: each scheduled time is submitted once all the same (its
   * idempotency key), and the schedule keeps going when any node dies.
   */
  async refresh(id: string): Promise<void> {
    const record = await this.#o.store.get(id);
    this.#o.cron.remove(id);
    if (record?.type === 'cron') this.#o.cron.add(record);
  }

  /** Makes `secret` the current one; the others stay accepted for the overlap, then expire. */
  async rotate(fn: string, id: string, secret: string, overlapMs = this.#o.rotationOverlapMs): Promise<TriggerView> {
    const record = await this.#find(fn, id);
    if (record.type !== 'webhook') throw new WispError('INVALID_REQUEST', `trigger ${id} is a cron trigger; only webhook triggers have a secret`);
    const now = this.#o.now();
    const rotated = await this.#o.store.rotateSecret(id, secret, now, now + overlapMs);
    if (!rotated) throw new WispError('TRIGGER_NOT_FOUND', `function "${fn}" has no trigger "${id}"`);
    return this.#view(rotated);
  }

  /** Verifies a delivery and records it as an invocation; a redelivery yields the first one. */
  async deliver(id: string, body: Buffer, headers: Headers): Promise<{ invocationId: string; existed: boolean; reused?: true }> {
    const trigger = await this.#o.store.get(id);
    if (trigger?.type !== 'webhook') throw new WispError('TRIGGER_NOT_FOUND', `no webhook trigger "${id}"`);
    let delivery;
    try {
      delivery = verifyDelivery(trigger, body, headers, this.#o.now());
    } catch (err) {
      if (err instanceof SignatureError) throw new WispError('INVALID_SIGNATURE', `${trigger.scheme} signature check failed: ${err.message}`);
      throw err;
    }
    const input = { source: trigger.scheme, id: delivery.id, type: delivery.type, headers: plainHeaders(headers), payload: delivery.payload };
    const { invocation, ...outcome } = await this.#o.invocations.submit({
      function: trigger.function,
      input,
      triggerId: trigger.id,
      // A redelivery carries new timestamps and signatures: only the body says it is the same event.
      requestHash: createHash('sha256').update(body).digest('base64url'),
      ...(delivery.id === null ? {} : { idempotencyKey: delivery.id }),
    });
    return { invocationId: invocation.id, ...outcome };
  }

  async #find(fn: string, id: string): Promise<TriggerRecord> {
    const record = await this.#o.store.get(id);
    if (!record || record.function !== fn) throw new WispError('TRIGGER_NOT_FOUND', `function "${fn}" has no trigger "${id}"`);
    return record;
  }
}

function plainHeaders(headers: Headers): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) if (value !== undefined) out[name] = Array.isArray(value) ? value.join(', ') : value;
  return out;
}
