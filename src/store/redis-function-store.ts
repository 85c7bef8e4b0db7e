// Function metadata in Redis: per function a hash of its counters and times, and a hash of its
// versions (number → the version's JSON, without the number); a set of the names. Numbers and
// times are plain hash fields, so the scripts never parse JSON.
import type { Redis } from 'ioredis';
import type { FunctionStore, VersionDraft } from './function-store.js';
import type { FunctionRecord, VersionRecord } from './records.js';

const FIELDS = ['active', 'latest', 'createdAt', 'updatedAt'] as const;

// KEYS: function hash, versions hash, names set. ARGV: name, draft JSON, time.
const ADD_VERSION = `
local latest = redis.call('HINCRBY', KEYS[1], 'latest', 1)
if latest == 1 then redis.call('HSET', KEYS[1], 'createdAt', ARGV[3]) end
redis.call('HSET', KEYS[1], 'active', latest, 'updatedAt', ARGV[3])
redis.call('HSET', KEYS[2], latest, ARGV[2])
redis.call('SADD', KEYS[3], ARGV[1])
return redis.call('HMGET', KEYS[1], 'active', 'latest', 'createdAt', 'updatedAt')`;

// KEYS: function hash, versions hash. ARGV: version, time.
const SET_ACTIVE = `
if redis.call('EXISTS', KEYS[1]) == 0 or redis.call('HEXISTS', KEYS[2], ARGV[1]) == 0 then return false end
redis.call('HSET', KEYS[1], 'active', ARGV[1], 'updatedAt', ARGV[2])
return redis.call('HMGET', KEYS[1], 'active', 'latest', 'createdAt', 'updatedAt')`;

// KEYS: function hash, versions hash, names set. ARGV: name.
const DELETE = `
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('DEL', KEYS[1], KEYS[2])
redis.call('SREM', KEYS[3], ARGV[1])
return 1`;

const toFunction = (name: string, [active, latest, createdAt, updatedAt]: (string | null)[]): FunctionRecord => ({
  name,
  activeVersion: Number(active),
  latestVersion: Number(latest),
  createdAt: Number(createdAt!),
  updatedAt: Number(updatedAt!),
});

export class RedisFunctionStore implements FunctionStore {
  readonly #redis: Redis;
  readonly #prefix: string;

  constructor(redis: Redis, prefix: string) {
    this.#redis = redis;
    this.#prefix = prefix;
  }

  #keys(name: string): [fn: string, versions: string] {
    return [`${this.#prefix}fn:${name}`, `${this.#prefix}fn:${name}:versions`];
  }

  get #names(): string {
    return `${this.#prefix}functions`;
  }

  async load(): Promise<{ functions: FunctionRecord[]; versions: VersionRecord[] }> {
    const functions: FunctionRecord[] = [];
    const versions: VersionRecord[] = [];
    for (const name of (await this.#redis.smembers(this.#names)).sort()) {
      const one = await this.loadOne(name);
      if (!one) continue; // deleted meanwhile
      functions.push(one.fn);
      versions.push(...one.versions);
    }
    return { functions, versions };
  }

  async loadOne(name: string): Promise<{ fn: FunctionRecord; versions: VersionRecord[] } | null> {
    const [fnKey, versionsKey] = this.#keys(name);
    // One MULTI: the record and the versions as of one moment.
    const [[, fields], [, drafts]] = (await this.#redis.multi().hmget(fnKey, ...FIELDS).hgetall(versionsKey).exec()) as [[null, (string | null)[]], [null, Record<string, string>]];
    if (fields[1] === null) return null;
    const versions = Object.entries(drafts)
      .sort(([a], [b]) => Number(a) - Number(b))
      .map(([number, json]) => ({ ...(JSON.parse(json) as VersionDraft), version: Number(number) }));
    return { fn: toFunction(name, fields), versions };
  }

  async addVersion(draft: VersionDraft): Promise<{ fn: FunctionRecord; version: VersionRecord }> {
    const keys = [...this.#keys(draft.name), this.#names];
    const fields = (await this.#redis.eval(ADD_VERSION, keys.length, ...keys, draft.name, JSON.stringify(draft), draft.createdAt)) as (string | null)[];
    const fn = toFunction(draft.name, fields);
    return { fn, version: { ...draft, version: fn.latestVersion } };
  }

  async setActiveVersion(name: string, version: number, updatedAt: number): Promise<FunctionRecord | undefined> {
    const fields = (await this.#redis.eval(SET_ACTIVE, 2, ...this.#keys(name), version, updatedAt)) as (string | null)[] | null;
    return fields ? toFunction(name, fields) : undefined;
  }

  async deleteFunction(name: string): Promise<boolean> {
    return (await this.#redis.eval(DELETE, 3, ...this.#keys(name), this.#names, name)) === 1;
  }
}
