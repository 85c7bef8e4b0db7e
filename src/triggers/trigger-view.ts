// How the API shows a trigger: webhook secrets as fingerprints only, cron times as ISO strings.
import { createHash } from 'node:crypto';
import type { CronTriggerRecord, HmacSettings, TriggerRecord, WebhookScheme } from '../store/records.js';

export interface WebhookTriggerView {
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

export type CronTriggerView = Omit<CronTriggerRecord, 'lastScheduledAt' | 'createdAt'> & { lastScheduledAt: string | null; nextRunAt: string | null; createdAt: string };

export type TriggerView = WebhookTriggerView | CronTriggerView;

export const fingerprint = (secret: string): string => createHash('sha256').update(secret).digest('hex').slice(0, 12);

const iso = (ms: number | null | undefined): string | null => (ms === null || ms === undefined ? null : new Date(ms).toISOString());

export function triggerView(record: TriggerRecord, now: number, nextRunAt?: number | null): TriggerView {
  if (record.type === 'cron') return { ...record, lastScheduledAt: iso(record.lastScheduledAt), nextRunAt: iso(nextRunAt), createdAt: iso(record.createdAt)! };
  return {
    id: record.id,
    function: record.function,
    type: record.type,
    scheme: record.scheme,
    url: `/hooks/${record.id}`,
    secrets: record.secrets
      .filter((s) => s.expiresAt === null || s.expiresAt > now)
      .map((s) => ({ fingerprint: fingerprint(s.secret), expiresAt: iso(s.expiresAt) })),
    ...(record.hmac ? { hmac: record.hmac } : {}),
    createdAt: iso(record.createdAt)!,
  };
}
