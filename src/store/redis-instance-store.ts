// Instance records in Redis. Each instance is a hash under `inst:ID`: `record` (the JSON), `fn`
// and `name` for the scripts, and `node` and `epoch`, which a claim changes without touching the
// JSON (they are laid over it when read); `instances` orders them by creation (a sequence
// number), and `instname:FUNCTION NUL NAME` holds the id that owns a name. Group writes
// (redis-group-store.ts) write their members with the same Lua, inside their own script.
import type { Redis } from 'ioredis';
import { epochOf, staleOwner, type InstanceStore } from './instance-store.js';
import type { InstanceRecord } from './records.js';

/** How many ARGV one instance takes in the scripts (see instanceArgs). */
export const INSTANCE_ARGC = 6;

/** Lua: writes one instance from ARGV[o .. o+5] (id, function, name or '', record, node or '', epoch). KEYS[1] is the prefix. */
export const WRITE_INSTANCE = `
local p = KEYS[1]
local function writeInstance(o)
  local id, fn, name, record = ARGV[o], ARGV[o + 1], ARGV[o + 2], ARGV[o + 3]
  local key = p .. 'inst:' .. id
  if redis.call('EXISTS', key) == 0 then
    redis.call('ZADD', p .. 'instances', redis.call('INCR', p .. 'instances:seq'), id)
  end
  redis.call('HSET', key, 'record', record, 'fn', fn, 'name', name, 'node', ARGV[o + 4], 'epoch', ARGV[o + 5])
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

// ARGV: one instance (see instanceArgs). {1}, or {0, record, node, epoch} of the one that holds the name.
const CREATE = `${WRITE_INSTANCE}
if ARGV[3] ~= '' then
  local holder = redis.call('GET', p .. 'instname:' .. ARGV[2] .. '\\0' .. ARGV[3])
  if holder then
    local held = redis.call('HMGET', p .. 'inst:' .. holder, 'record', 'node', 'epoch')
    if held[1] then return {0, held[1], held[2] or '', held[3] or ''} end
  end
end
if redis.call('EXISTS', p .. 'inst:' .. ARGV[1]) == 1 then return redis.error_reply('instance ' .. ARGV[1] .. ' is already stored') end
writeInstance(1)
return {1}`;

// {1}, or {0} when the stored epoch is not the record's (claimed since, or deleted).
const SAVE = `${WRITE_INSTANCE}
local stored = redis.call('HMGET', p .. 'inst:' .. ARGV[1], 'record', 'epoch')
if not stored[1] or (tonumber(stored[2]) or 0) ~= tonumber(ARGV[6]) then return 0 end
if not nameFree(1) then return redis.error_reply('the name ' .. ARGV[3] .. ' of ' .. ARGV[2] .. ' belongs to another instance') end
writeInstance(1)
return 1`;

// ARGV: id, expected epoch, node. The claimed hash's fields, or false.
const CLAIM = `
local key = KEYS[1] .. 'inst:' .. ARGV[1]
local stored = redis.call('HMGET', key, 'record', 'epoch')
if not stored[1] or (tonumber(stored[2]) or 0) ~= tonumber(ARGV[2]) then return false end
redis.call('HSET', key, 'node', ARGV[3], 'epoch', tonumber(ARGV[2]) + 1)
return redis.call('HMGET', key, 'record', 'node', 'epoch')`;

// KEYS[1]: prefix. Every instance's record, node and epoch, in creation order.
const LIST = `
local out = {}
for _, id in ipairs(redis.call('ZRANGE', KEYS[1] .. 'instances', 0, -1)) do
  local fields = redis.call('HMGET', KEYS[1] .. 'inst:' .. id, 'record', 'node', 'epoch')
  if fields[1] then
    out[#out + 1] = fields[1]
    out[#out + 1] = fields[2] or ''
    out[#out + 1] = fields[3] or ''
  end
end
return out`;

// ARGV: id, and an epoch ('' for none) the stored record must have. 0 when it has another.
const DELETE = `${WRITE_INSTANCE}
if ARGV[2] ~= '' then
  local stored = redis.call('HMGET', p .. 'inst:' .. ARGV[1], 'record', 'epoch')
  if stored[1] and (tonumber(stored[2]) or 0) ~= tonumber(ARGV[2]) then return 0 end
end
deleteInstance(ARGV[1])
return 1`;

export const instanceArgs = (record: InstanceRecord): string[] => [record.id, record.function, record.name ?? '', JSON.stringify(record), record.node ?? '', String(epochOf(record))];

/** The record with the hash's `node` and `epoch` laid over it (a claim sets only those). */
export function withOwner(json: string, node: string | null, epoch: string | null): InstanceRecord {
  const record = JSON.parse(json) as InstanceRecord;
  // Only a claim makes them differ from the JSON (it bumps the epoch); a hash written before
  // epochs has neither field, and the record stands as written.
  if (epoch !== null && epoch !== '' && Number(epoch) !== epochOf(record)) {
    record.node = node || null;
    record.epoch = Number(epoch);
  }
  return record;
}

export class RedisInstanceStore implements InstanceStore {
  readonly #redis: Redis;
  readonly #prefix: string;

  /** Keys start with `prefix` (for example "wisp:"), so several Wisps or test runs share a server. */
  constructor(redis: Redis, prefix: string) {
    this.#redis = redis;
    this.#prefix = prefix;
  }

  async create(record: InstanceRecord): Promise<{ created: boolean; record: InstanceRecord }> {
    const [created, json, node, epoch] = (await this.#redis.eval(CREATE, 1, this.#prefix, ...instanceArgs(record))) as [number, string?, string?, string?];
    return created === 1 ? { created: true, record } : { created: false, record: withOwner(json!, node!, epoch!) };
  }

  async get(id: string): Promise<InstanceRecord | null> {
    const [json, node, epoch] = await this.#redis.hmget(`${this.#prefix}inst:${id}`, 'record', 'node', 'epoch');
    return json ? withOwner(json, node ?? null, epoch ?? null) : null;
  }

  async save(record: InstanceRecord): Promise<void> {
    if ((await this.#redis.eval(SAVE, 1, this.#prefix, ...instanceArgs(record))) !== 1) throw staleOwner(record.id);
  }

  async claim(id: string, epoch: number, node: string): Promise<InstanceRecord | null> {
    const fields = (await this.#redis.eval(CLAIM, 1, this.#prefix, id, String(epoch), node)) as [string, string, string] | null;
    return fields ? withOwner(...fields) : null;
  }

  async delete(id: string, epoch?: number): Promise<void> {
    if ((await this.#redis.eval(DELETE, 1, this.#prefix, id, epoch === undefined ? '' : String(epoch))) !== 1) throw staleOwner(id);
  }

  async list(): Promise<InstanceRecord[]> {
    const fields = (await this.#redis.eval(LIST, 1, this.#prefix)) as string[];
    const out: InstanceRecord[] = [];
    for (let i = 0; i < fields.length; i += 3) out.push(withOwner(fields[i]!, fields[i + 1]!, fields[i + 2]!));
    return out;
  }
}
