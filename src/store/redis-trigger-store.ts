// Trigger records in Redis. Each trigger is a hash: `record` (the JSON document), `version` (bumped
// on every change), and `fn` and `type` for the scripts, which never parse JSON. A change reads
// the record, computes the new one in JS (the same rules as the SQLite store) and writes it with a
// compare-and-set on `version`, retrying if another writer got there first.
import type { Redis } from 'ioredis';
import type { CronTriggerRecord, TriggerRecord, WebhookTriggerRecord } from './records.js';
import { RECORDS_IN_ORDER } from './redis-records-in-order.js';
import { rotatedSecrets, type TriggerStore } from './trigger-store.js';

// KEYS: trigger hash, function index, cron index, sequence. ARGV: id, record, fn, type.
const CREATE = `
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
local seq = redis.call('INCR', KEYS[4])
redis.call('HSET', KEYS[1], 'record', ARGV[2], 'version', 1, 'fn', ARGV[3], 'type', ARGV[4])
redis.call('ZADD', KEYS[2], seq, ARGV[1])
if ARGV[4] == 'cron' then redis.call('ZADD', KEYS[3], seq, ARGV[1]) end
return 1`;

// KEYS: trigger hash. ARGV: expected version, new record.
const COMPARE_AND_SET = `
if redis.call('HGET', KEYS[1], 'version') ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[1], 'record', ARGV[2])
redis.call('HINCRBY', KEYS[1], 'version', 1)
return 1`;

// KEYS: trigger hash, cron index. ARGV: id, key prefix for function indexes.
const DELETE = `
local fn = redis.call('HGET', KEYS[1], 'fn')
if not fn then return 0 end
redis.call('DEL', KEYS[1])
redis.call('ZREM', ARGV[2] .. fn, ARGV[1])
redis.call('ZREM', KEYS[2], ARGV[1])
return 1`;

/** The indexes, as keys after the prefix. */
const fnIndex = (fn: string): string => `triggers:fn:${fn}`;
const CRON_INDEX = 'triggers:cron';

export class RedisTriggerStore implements TriggerStore {
  readonly #redis: Redis;
  readonly #prefix: string;

  /** Keys start with `prefix` (for example "wisp:"), so several Wisps or test runs share a server. */
  constructor(redis: Redis, prefix: string) {
    this.#redis = redis;
    this.#prefix = prefix;
  }

  #key(id: string): string {
    return `${this.#prefix}trigger:${id}`;
  }

  #fnIndex(fn: string): string {
    return `${this.#prefix}${fnIndex(fn)}`;
  }

  get #cronIndex(): string {
    return `${this.#prefix}${CRON_INDEX}`;
  }

  async create(record: TriggerRecord): Promise<void> {
    const keys = [this.#key(record.id), this.#fnIndex(record.function), this.#cronIndex, `${this.#prefix}triggers:seq`];
    const made = await this.#redis.eval(CREATE, keys.length, ...keys, record.id, JSON.stringify(record), record.function, record.type);
    if (made !== 1) throw new Error(`trigger ${record.id} exists already`);
  }

  async get(id: string): Promise<TriggerRecord | undefined> {
    const text = await this.#redis.hget(this.#key(id), 'record');
    return text === null ? undefined : (JSON.parse(text) as TriggerRecord);
  }

  async list(fn: string): Promise<TriggerRecord[]> {
    return this.#recordsOf(fnIndex(fn));
  }

  async crons(): Promise<CronTriggerRecord[]> {
    return (await this.#recordsOf(CRON_INDEX)) as CronTriggerRecord[];
  }

  async delete(id: string): Promise<boolean> {
    return (await this.#redis.eval(DELETE, 2, this.#key(id), this.#cronIndex, id, `${this.#prefix}triggers:fn:`)) === 1;
  }

  rotateSecret(id: string, secret: string, now: number, until: number): Promise<WebhookTriggerRecord | undefined> {
    return this.#change(id, (record) => {
      if (record.type !== 'webhook') return undefined;
      return { ...record, secrets: rotatedSecrets(record.secrets, secret, now, until) };
    });
  }

  async recordScheduled(id: string, at: number, invocationId: string | null): Promise<boolean> {
    let found = false;
    await this.#change(id, (record) => {
      if (record.type !== 'cron') return undefined;
      found = true;
      if (at < (record.lastScheduledAt ?? -Infinity)) return undefined;
      return { ...record, lastScheduledAt: at, lastInvocationId: invocationId };
    });
    return found;
  }

  /** The triggers in `index` (a key after the prefix), in its order. */
  async #recordsOf(index: string): Promise<TriggerRecord[]> {
    const texts = (await this.#redis.eval(RECORDS_IN_ORDER, 1, this.#prefix, index, 'trigger:')) as string[];
    return texts.map((text) => JSON.parse(text) as TriggerRecord);
  }

  /** Read, change in JS, compare-and-set; again from the read if another writer came between. */
  async #change<T extends TriggerRecord>(id: string, change: (record: TriggerRecord) => T | undefined): Promise<T | undefined> {
    for (;;) {
      const [text, version] = await this.#redis.hmget(this.#key(id), 'record', 'version');
      if (!text || !version) return undefined;
      const next = change(JSON.parse(text) as TriggerRecord);
      if (next === undefined) return undefined;
      if ((await this.#redis.eval(COMPARE_AND_SET, 1, this.#key(id), version, JSON.stringify(next))) === 1) return next;
    }
  }
}
