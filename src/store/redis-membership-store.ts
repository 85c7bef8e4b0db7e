// Cluster membership in Redis: a hash per node under `cluster:node:ID`, the set of node ids in
// `cluster:nodes`, incarnations from one counter. Every script takes its time from Redis TIME.
import type { Redis } from 'ioredis';
import type { MembershipStore, NodeRecord, NodeReport, RenewOutcome } from './membership-store.js';
import { REDIS_NOW } from './redis-clock.js';


// KEYS[1]: prefix. ARGV: id, lease ms, address, capacity, allocated, instances.
const REGISTER = `${REDIS_NOW}
local p = KEYS[1]
local key = p .. 'cluster:node:' .. ARGV[1]
local previous = redis.call('HGET', key, 'record')
local incarnation = redis.call('INCR', p .. 'cluster:incarnations')
local record = cjson.encode({id = ARGV[1], incarnation = incarnation, address = ARGV[3], state = 'active', leaseUntil = now + tonumber(ARGV[2]), renewedAt = now, capacity = cjson.decode(ARGV[4]), allocated = cjson.decode(ARGV[5]), instances = tonumber(ARGV[6])})
redis.call('HSET', key, 'record', record, 'incarnation', incarnation)
redis.call('SADD', p .. 'cluster:nodes', ARGV[1])
return {incarnation, now, previous or ''}`;

// ARGV: id, incarnation, lease ms, address, capacity, allocated, instances.
const RENEW = `${REDIS_NOW}
local key = KEYS[1] .. 'cluster:node:' .. ARGV[1]
local text = redis.call('HGET', key, 'record')
if not text then return {0, 'unknown'} end
local record = cjson.decode(text)
if record.incarnation ~= tonumber(ARGV[2]) then return {0, 'replaced'} end
if record.state ~= 'active' then return {0, 'dead'} end
if now > record.leaseUntil then return {0, 'expired'} end
record.leaseUntil = now + tonumber(ARGV[3])
record.renewedAt = now
record.address = ARGV[4]
record.capacity = cjson.decode(ARGV[5])
record.allocated = cjson.decode(ARGV[6])
record.instances = tonumber(ARGV[7])
redis.call('HSET', key, 'record', cjson.encode(record))
return {1, now}`;

// ARGV: id, incarnation.
const LEAVE = `${REDIS_NOW}
local key = KEYS[1] .. 'cluster:node:' .. ARGV[1]
local text = redis.call('HGET', key, 'record')
if not text then return 0 end
local record = cjson.decode(text)
if record.incarnation ~= tonumber(ARGV[2]) then return 0 end
record.state = 'left'
record.leaseUntil = now
redis.call('HSET', key, 'record', cjson.encode(record))
return 1`;

// ARGV: reaper id, lock ms, margin ms. {0} when another reaper holds the key, else {1, dead...}.
const REAP = `${REDIS_NOW}
local p = KEYS[1]
local lock = p .. 'cluster:reaper'
local holder = redis.call('GET', lock)
if holder and holder ~= ARGV[1] then return {0} end
redis.call('SET', lock, ARGV[1], 'PX', tonumber(ARGV[2]))
local out = {1}
for _, id in ipairs(redis.call('SMEMBERS', p .. 'cluster:nodes')) do
  local key = p .. 'cluster:node:' .. id
  local text = redis.call('HGET', key, 'record')
  if text then
    local record = cjson.decode(text)
    if record.state == 'active' and now > record.leaseUntil + tonumber(ARGV[3]) then
      record.state = 'dead'
      text = cjson.encode(record)
      redis.call('HSET', key, 'record', text)
      out[#out + 1] = text
    end
  end
end
return out`;

const NODES = `${REDIS_NOW}
local out = {now}
for _, id in ipairs(redis.call('SMEMBERS', KEYS[1] .. 'cluster:nodes')) do
  local text = redis.call('HGET', KEYS[1] .. 'cluster:node:' .. id, 'record')
  if text then out[#out + 1] = text end
end
return out`;

/** cjson writes an empty table as {}: a node without custom resources must keep an object. */
function parseNode(text: string): NodeRecord {
  const record = JSON.parse(text) as NodeRecord;
  if (record.address === '') record.address = null;
  return record;
}

const reportArgs = (report: NodeReport): string[] => [report.address ?? '', JSON.stringify(report.capacity), JSON.stringify(report.allocated), String(report.instances)];

export class RedisMembershipStore implements MembershipStore {
  readonly #redis: Redis;
  readonly #prefix: string;

  constructor(redis: Redis, prefix: string) {
    this.#redis = redis;
    this.#prefix = prefix;
  }

  async register(id: string, report: NodeReport, leaseMs: number): Promise<{ incarnation: number; now: number; previous: NodeRecord | null }> {
    const [incarnation, now, previous] = (await this.#redis.eval(REGISTER, 1, this.#prefix, id, String(leaseMs), ...reportArgs(report))) as [number, number, string];
    return { incarnation, now, previous: previous ? parseNode(previous) : null };
  }

  async renew(id: string, incarnation: number, report: NodeReport, leaseMs: number): Promise<RenewOutcome> {
    const [ok, detail] = (await this.#redis.eval(RENEW, 1, this.#prefix, id, String(incarnation), String(leaseMs), ...reportArgs(report))) as [number, number | string];
    return ok === 1 ? { ok: true, now: detail as number } : { ok: false, why: detail as 'replaced' | 'dead' | 'expired' | 'unknown' };
  }

  async leave(id: string, incarnation: number): Promise<void> {
    await this.#redis.eval(LEAVE, 1, this.#prefix, id, String(incarnation));
  }

  async reap(reaper: string, lockMs: number, marginMs: number): Promise<NodeRecord[] | null> {
    const [held, ...dead] = (await this.#redis.eval(REAP, 1, this.#prefix, reaper, String(lockMs), String(marginMs))) as [number, ...string[]];
    return held === 1 ? dead.map(parseNode) : null;
  }

  async nodes(): Promise<{ now: number; nodes: NodeRecord[] }> {
    const [now, ...texts] = (await this.#redis.eval(NODES, 1, this.#prefix)) as [number, ...string[]];
    return { now, nodes: texts.map(parseNode).sort((a, b) => a.id.localeCompare(b.id)) };
  }

  async sharedSecret(name: 'internal' | 'callbacks', candidate: string): Promise<string> {
    const key = `${this.#prefix}cluster:secret:${name}`;
    // SET NX GET answers the value already there (or nil when ours was set), in one step.
    const existing = (await this.#redis.set(key, candidate, 'NX', 'GET')) as string | null;
    return existing ?? candidate;
  }
}
