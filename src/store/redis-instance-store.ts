// Instance records in Redis. Each instance is a hash under `inst:ID`: `record` (the JSON), and
// `fn` and `name` for the scripts; `instances` orders them by creation (a sequence number), and
// `instname:FUNCTION NUL NAME` holds the id that owns a name. Group writes (redis-group-store.ts)
// write their members with the same Lua, inside their own script.
import type { Redis } from 'ioredis';
import type { InstanceStore } from './instance-store.js';
import type { InstanceRecord } from './records.js';
import { RECORDS_IN_ORDER } from './redis-records-in-order.js';

/** Lua: writes one instance from ARGV[o .. o+3] (id, function, name or '', record). KEYS[1] is the prefix. */
export const WRITE_INSTANCE = `
local p = KEYS[1]
local function writeInstance(o)
  local id, fn, name, record = ARGV[o], ARGV[o + 1], ARGV[o + 2], ARGV[o + 3]
  local key = p .. 'inst:' .. id
  if redis.call('EXISTS', key) == 0 then
    redis.call('ZADD', p .. 'instances', redis.call('INCR', p .. 'instances:seq'), id)
  end
  redis.call('HSET', key, 'record', record, 'fn', fn, 'name', name)
  if name ~= '' then redis.call('SET', p .. 'instname:' .. fn .. '\\0' .. name, id) end
end
-- Whether ARGV[o ..] may be written: its name is free, or its own. Checked before any write, so
-- that a script that refuses has written nothing.
local function nameFree(o)
  local id, fn, name = ARGV[o], ARGV[o + 1], ARGV[o + 2]
  if name == '' then return true end
  local holder = redis.call('GET', p .. 'instname:' .. fn .. '\\0' .. name)
  return not holder or holder == id or redis.call('EXISTS', p .. 'inst:' .. holder) == 0
end
local function deleteInstance(id)
  local key = p .. 'inst:' .. id
  local h = redis.call('HMGET', key, 'fn', 'name')
  if not h[1] then return end
  local nameKey = p .. 'instname:' .. h[1] .. '\\0' .. h[2]
  if h[2] ~= '' and redis.call('GET', nameKey) == id then redis.call('DEL', nameKey) end
  redis.call('DEL', key)
  redis.call('ZREM', p .. 'instances', id)
end
`;

// ARGV: id, function, name or '', record. {1}, or {0, the record that holds the name}.
const CREATE = `${WRITE_INSTANCE}
if ARGV[3] ~= '' then
  local holder = redis.call('GET', p .. 'instname:' .. ARGV[2] .. '\\0' .. ARGV[3])
  if holder then
    local record = redis.call('HGET', p .. 'inst:' .. holder, 'record')
    if record then return {0, record} end
  end
end
if redis.call('EXISTS', p .. 'inst:' .. ARGV[1]) == 1 then return redis.error_reply('instance ' .. ARGV[1] .. ' is already stored') end
writeInstance(1)
return {1}`;

const SAVE = `${WRITE_INSTANCE}
if not nameFree(1) then return redis.error_reply('the name ' .. ARGV[3] .. ' of ' .. ARGV[2] .. ' belongs to another instance') end
writeInstance(1)
return 1`;

const DELETE = `${WRITE_INSTANCE}
deleteInstance(ARGV[1])
return 1`;

export const instanceArgs = (record: InstanceRecord): string[] => [record.id, record.function, record.name ?? '', JSON.stringify(record)];

export class RedisInstanceStore implements InstanceStore {
  readonly #redis: Redis;
  readonly #prefix: string;

  /** Keys start with `prefix` (for example "wisp:"), so several Wisps or test runs share a server. */
  constructor(redis: Redis, prefix: string) {
    this.#redis = redis;
    this.#prefix = prefix;
  }

  async create(record: InstanceRecord): Promise<{ created: boolean; record: InstanceRecord }> {
    const [created, holder] = (await this.#redis.eval(CREATE, 1, this.#prefix, ...instanceArgs(record))) as [number, string?];
    return created === 1 ? { created: true, record } : { created: false, record: JSON.parse(holder!) as InstanceRecord };
  }

  async save(record: InstanceRecord): Promise<void> {
    await this.#redis.eval(SAVE, 1, this.#prefix, ...instanceArgs(record));
  }

  async delete(id: string): Promise<void> {
    await this.#redis.eval(DELETE, 1, this.#prefix, id);
  }

  async list(): Promise<InstanceRecord[]> {
    const texts = (await this.#redis.eval(RECORDS_IN_ORDER, 1, this.#prefix, 'instances', 'inst:')) as string[];
    return texts.map((text) => JSON.parse(text) as InstanceRecord);
  }
}
