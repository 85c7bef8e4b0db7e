// Concurrency slots on Redis: a sorted set per key under `slots:KEY`, one member per holder,
// scored by when its lease ends on the Redis clock. Taking first drops the holders whose lease
// ran out, so the count is always of live holders.
import type { Redis } from 'ioredis';
import type { HeldSlot, SlotStore } from './slot-store.js';
import { REDIS_NOW } from './redis-clock.js';


// KEYS[1]: the semaphore's key. ARGV: limit, lease ms, holders...
const TAKE = `${REDIS_NOW}
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
local room = tonumber(ARGV[1]) - redis.call('ZCARD', KEYS[1])
local taken = 0
for i = 3, #ARGV do
  if taken >= room then break end
  redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[i])
  taken = taken + 1
end
return taken`;

// KEYS[1]: prefix. ARGV: lease ms, then key and holder pairs. Only slots still held (XX).
const RENEW = `${REDIS_NOW}
for i = 2, #ARGV, 2 do
  redis.call('ZADD', KEYS[1] .. 'slots:' .. ARGV[i], 'XX', now + tonumber(ARGV[1]), ARGV[i + 1])
end
return 1`;

type Script = (...args: (string | number)[]) => Promise<unknown>;

export class RedisSlotStore implements SlotStore {
  readonly #redis: Redis;
  readonly #prefix: string;
  readonly #take: Script;
  readonly #renew: Script;

  constructor(redis: Redis, prefix: string) {
    this.#redis = redis;
    this.#prefix = prefix;
    if (!('wispSlotTake' in redis)) redis.defineCommand('wispSlotTake', { numberOfKeys: 1, lua: TAKE });
    if (!('wispSlotRenew' in redis)) redis.defineCommand('wispSlotRenew', { numberOfKeys: 1, lua: RENEW });
    const client = redis as unknown as Record<string, Script>;
    this.#take = (...args) => client.wispSlotTake!(...args);
    this.#renew = (...args) => client.wispSlotRenew!(...args);
  }

  async take(key: string, limit: number, holders: readonly string[], leaseMs: number): Promise<number> {
    if (holders.length === 0) return 0;
    return Number(await this.#take(this.#key(key), limit, leaseMs, ...holders));
  }

  async renew(slots: readonly HeldSlot[], leaseMs: number): Promise<void> {
    if (slots.length === 0) return;
    await this.#renew(this.#prefix, leaseMs, ...slots.flatMap((slot) => [slot.key, slot.holder]));
  }

  async release(slots: readonly HeldSlot[]): Promise<void> {
    // One slot is one command, written to the connection at once (a pipeline would wait a turn).
    await Promise.all(slots.map((slot) => this.#redis.zrem(this.#key(slot.key), slot.holder)));
  }

  #key(key: string): string {
    return `${this.#prefix}slots:${key}`;
  }
}
