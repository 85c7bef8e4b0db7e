// Functions' secrets in Redis: per function a hash of values and a hash of update times, and a set
// of the functions that have any. An apply reads the values, computes the result in JS (the same
// rule as the SQLite store, limits included), and writes it in Lua only if the values are still
// what was read (their hash's version), retrying otherwise.
import type { Redis } from 'ioredis';
import { applied, type EnvApplied, type EnvChangeSet, type EnvEntry, type EnvLimits, type EnvStore } from './env-store.js';

// KEYS: values, times, version, function set. ARGV: expected version, fn, at, how many values
// are set (n), then n name/value pairs, then the names deleted.
const WRITE = `
if (redis.call('GET', KEYS[3]) or '0') ~= ARGV[1] then return 0 end
local sets = tonumber(ARGV[4])
for i = 5, 4 + 2 * sets, 2 do
  redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1])
  redis.call('HSET', KEYS[2], ARGV[i], ARGV[3])
end
for i = 5 + 2 * sets, #ARGV do
  redis.call('HDEL', KEYS[1], ARGV[i])
  redis.call('HDEL', KEYS[2], ARGV[i])
end
redis.call('INCR', KEYS[3])
if redis.call('HLEN', KEYS[1]) > 0 then redis.call('SADD', KEYS[4], ARGV[2]) else redis.call('SREM', KEYS[4], ARGV[2]) end
return 1`;

export class RedisEnvStore implements EnvStore {
  readonly #redis: Redis;
  readonly #prefix: string;

  constructor(redis: Redis, prefix: string) {
    this.#redis = redis;
    this.#prefix = prefix;
  }

  #keys(fn: string): [values: string, times: string, version: string] {
    // Under env:fn: so that no function name meets the index key below.
    const base = `${this.#prefix}env:fn:${fn}`;
    return [`${base}:values`, `${base}:at`, `${base}:version`];
  }

  get #functions(): string {
    return `${this.#prefix}env:functions`;
  }

  async all(): Promise<Map<string, Record<string, string>>> {
    const all = new Map<string, Record<string, string>>();
    for (const fn of await this.#redis.smembers(this.#functions)) {
      const values = await this.#redis.hgetall(this.#keys(fn)[0]);
      if (Object.keys(values).length > 0) all.set(fn, values);
    }
    return all;
  }

  async entries(fn: string): Promise<EnvEntry[]> {
    const times = await this.#redis.hgetall(this.#keys(fn)[1]);
    return Object.keys(times)
      .sort()
      .map((name) => ({ name, updatedAt: Number(times[name]!) }));
  }

  async apply(fn: string, changes: EnvChangeSet, at: number, limits: EnvLimits): Promise<EnvApplied> {
    const [values, times, version] = this.#keys(fn);
    const sets = Object.entries(changes).filter((entry): entry is [string, string] => entry[1] !== null);
    const deletes = Object.keys(changes).filter((name) => changes[name] === null);
    for (;;) {
      const [seen, current] = await Promise.all([this.#redis.get(version), this.#redis.hgetall(values)]);
      const result = applied(current, changes, limits);
      if (!result.ok) return result;
      const written = await this.#redis.eval(WRITE, 4, values, times, version, this.#functions, seen ?? '0', fn, at, sets.length, ...sets.flat(), ...deletes);
      if (written === 1) return result;
    }
  }

  async deleteAll(fn: string): Promise<void> {
    await this.#redis.multi().del(...this.#keys(fn)).srem(this.#functions, fn).exec();
  }
}
