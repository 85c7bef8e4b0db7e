// Groups in Redis: a hash under `group:NAME` (`record`, the JSON, and `home`, the node that
// manages it, which a claim changes without touching the JSON and a read lays over it), ordered
// by creation in `groups`. A group and its members are written, or deleted, by one script: all
// or nothing; a write from a node that is no longer the group's home is refused.
import type { Redis } from 'ioredis';
import type { GroupStore } from './group-store.js';
import type { GroupRecord, InstanceRecord } from './records.js';
import { INSTANCE_ARGC, instanceArgs, WRITE_INSTANCE } from './redis-instance-store.js';
import { WispError } from '../errors.js';

// ARGV: name, record, home ('' for none), then per member its INSTANCE_ARGC instance arguments.
// 0 when the group's home is another node.
const SAVE = `${WRITE_INSTANCE}
local stored = redis.call('HGET', p .. 'group:' .. ARGV[1], 'home')
if stored and stored ~= '' and stored ~= ARGV[3] then return 0 end
for o = 4, #ARGV, ${INSTANCE_ARGC} do
  if not nameFree(o) then return redis.error_reply('member name ' .. ARGV[o + 2] .. ' of ' .. ARGV[o + 1] .. ' belongs to another instance') end
end
local key = p .. 'group:' .. ARGV[1]
if redis.call('HEXISTS', key, 'record') == 0 then
  redis.call('ZADD', p .. 'groups', redis.call('INCR', p .. 'groups:seq'), ARGV[1])
end
redis.call('HSET', key, 'record', ARGV[2], 'home', ARGV[3])
redis.call('PERSIST', key)
for o = 4, #ARGV, ${INSTANCE_ARGC} do writeInstance(o) end
return 1`;

// KEYS[1]: prefix. ARGV: name, the home expected, the new home. The record and home, or false.
const CLAIM_HOME = `
local key = KEYS[1] .. 'group:' .. ARGV[1]
local fields = redis.call('HMGET', key, 'record', 'home')
if not fields[1] then return false end
if (fields[2] or '') ~= ARGV[2] then return false end
redis.call('HSET', key, 'home', ARGV[3])
return {fields[1], ARGV[3]}`;

// KEYS[1]: prefix. ARGV: name, home, ms. A name is held by a hash with a home and no record yet,
// which expires unless the group is saved (a creator that died holds it only that long).
const RESERVE_NAME = `
local key = KEYS[1] .. 'group:' .. ARGV[1]
if redis.call('EXISTS', key) == 1 then return 0 end
redis.call('HSET', key, 'home', ARGV[2])
redis.call('PEXPIRE', key, ARGV[3])
return 1`;

/** How long a name is held for a group being created (its members boot meanwhile). */
const NAME_HOLD_MS = 300_000;

// KEYS[1]: prefix. ARGV: name, home. Deletes a held name whose group was not saved.
const RELEASE_NAME = `
local key = KEYS[1] .. 'group:' .. ARGV[1]
if redis.call('HEXISTS', key, 'record') == 0 and redis.call('HGET', key, 'home') == ARGV[2] then redis.call('DEL', key) end
return 1`;

// KEYS[1]: prefix. Every group's record and home, in creation order.
const LIST = `
local out = {}
for _, name in ipairs(redis.call('ZRANGE', KEYS[1] .. 'groups', 0, -1)) do
  local fields = redis.call('HMGET', KEYS[1] .. 'group:' .. name, 'record', 'home')
  if fields[1] then out[#out + 1] = {fields[1], fields[2] or ''} end
end
return out`;

/** The record with its stored home laid over it (a claim sets only that). */
function withHome(json: string, home: string): GroupRecord {
  const group = JSON.parse(json) as GroupRecord;
  if (home !== '') group.node = home;
  return group;
}

// ARGV: name, then the member ids.
const DELETE = `${WRITE_INSTANCE}
redis.call('DEL', p .. 'group:' .. ARGV[1])
redis.call('ZREM', p .. 'groups', ARGV[1])
for i = 2, #ARGV do deleteInstance(ARGV[i]) end
return 1`;

export class RedisGroupStore implements GroupStore {
  readonly #redis: Redis;
  readonly #prefix: string;

  /** Keys start with `prefix`, as for the instance store this one writes members with. */
  constructor(redis: Redis, prefix: string) {
    this.#redis = redis;
    this.#prefix = prefix;
  }

  async save(group: GroupRecord, members: InstanceRecord[]): Promise<void> {
    const saved = await this.#redis.eval(SAVE, 1, this.#prefix, group.name, JSON.stringify(group), group.node ?? '', ...members.flatMap(instanceArgs));
    if (saved !== 1) throw new WispError('STALE_OWNER', `group "${group.name}" is managed by another node now; this node's write was refused`);
  }

  async claimHome(name: string, from: string, to: string): Promise<GroupRecord | undefined> {
    const fields = (await this.#redis.eval(CLAIM_HOME, 1, this.#prefix, name, from, to)) as [string, string] | null;
    return fields ? withHome(...fields) : undefined;
  }

  async delete(name: string, memberIds: string[]): Promise<void> {
    await this.#redis.eval(DELETE, 1, this.#prefix, name, ...memberIds);
  }

  async get(name: string): Promise<GroupRecord | undefined> {
    const [json, home] = await this.#redis.hmget(`${this.#prefix}group:${name}`, 'record', 'home');
    return json ? withHome(json, home ?? '') : undefined;
  }

  async reserveName(name: string, home: string): Promise<boolean> {
    return (await this.#redis.eval(RESERVE_NAME, 1, this.#prefix, name, home, NAME_HOLD_MS)) === 1;
  }

  async releaseName(name: string, home: string): Promise<void> {
    await this.#redis.eval(RELEASE_NAME, 1, this.#prefix, name, home);
  }

  async list(): Promise<GroupRecord[]> {
    const rows = (await this.#redis.eval(LIST, 1, this.#prefix)) as [string, string][];
    return rows.map(([json, home]) => withHome(json, home));
  }
}
