// The Lua scripts of the Redis batch store, on the invocation store's keys and helpers
// (redis-invocation-scripts.ts): a batch is a hash `batch:ID` (`r` its JSON, `rev`, `finished`,
// `pending` whether its callback is still to deliver), its members a sorted set `batch:ID:m`
// (id by index), its counts by status a hash `batch:ID:c` (kept by the invocation scripts'
// index() as members change); `batches:open` (by createdAt) holds those not finished or with a callback
// pending, `batches:finished` (by finishedAt) the finished, for purging.
import { script } from './redis-invocation-scripts.js';

const BATCH_HELPERS = `
local function batch(id) return p .. 'batch:' .. id end
-- Keeps the batch indexes in step with its hash.
local function indexBatch(id)
  local h = redis.call('HMGET', batch(id), 'createdAt', 'finished', 'pending')
  if h[2] == '' or h[3] == '1' then redis.call('ZADD', p .. 'batches:open', h[1], id) else redis.call('ZREM', p .. 'batches:open', id) end
  if h[2] ~= '' then redis.call('ZADD', p .. 'batches:finished', h[2], id) end
end
`;

const batchScript = (body: string): string => script(BATCH_HELPERS + body);

/**
 * ARGV: batch id, its JSON, idempotency key (scope NUL key, or ''), createdAt, pending, then
 * its members' records (12 each, in index order). With the key known: {0, that batch's JSON},
 * writing nothing; else stores all and returns {1}.
 */
export const BATCH_CREATE = batchScript(`
local id, idem = ARGV[1], ARGV[3]
if idem ~= '' then
  local existing = redis.call('GET', p .. 'batchidem:' .. idem)
  if existing then
    local r = redis.call('HGET', batch(existing), 'r')
    if r then return {0, r} end
  end
end
if redis.call('EXISTS', batch(id)) == 1 then return redis.error_reply('batch ' .. id .. ' is already stored') end
for o = 6, #ARGV, 12 do
  if redis.call('EXISTS', inv(ARGV[o])) == 1 then return redis.error_reply('invocation ' .. ARGV[o] .. ' is already stored') end
end
if idem ~= '' then redis.call('SET', p .. 'batchidem:' .. idem, id) end
redis.call('HSET', batch(id), 'r', ARGV[2], 'rev', 1, 'createdAt', ARGV[4], 'finished', '', 'pending', ARGV[5], 'idem', idem)
indexBatch(id)
-- Every member is new, so instead of write() and index() per member (13 commands each, most
-- of the script's time at 10,000) each gets one HSET, and the index entries go in ZADDs of
-- many members at once (at most 500 pairs, well within Lua's unpack limit).
local pairs_of = {}
local function add(key, score, member)
  local list = pairs_of[key]
  if not list then list = {}; pairs_of[key] = list end
  list[#list + 1] = score
  list[#list + 1] = member
  if #list >= 1000 then
    redis.call('ZADD', key, unpack(list))
    pairs_of[key] = {}
  end
end
local counts = {}
local position = 0
for o = 6, #ARGV, 12 do
  local member, status, runAt, createdAt, finishedAt, callbackAt, fn, parent = ARGV[o], ARGV[o + 2], ARGV[o + 5], ARGV[o + 6], ARGV[o + 7], ARGV[o + 8], ARGV[o + 9], ARGV[o + 10]
  redis.call('HSET', inv(member), 'r', ARGV[o + 1], 'status', status, 'attempts', ARGV[o + 3], 'startedAt', ARGV[o + 4],
    'runAt', runAt, 'createdAt', createdAt, 'finishedAt', finishedAt, 'callbackAt', callbackAt,
    'fn', fn, 'parent', parent, 'idem', ARGV[o + 11], 'rev', 1, 'batch', id)
  add(p .. 'batch:' .. id .. ':m', position, member)
  add(p .. 'st:' .. status, createdAt, member)
  add(p .. 'created', createdAt, member)
  add(p .. 'fn:' .. fn, createdAt, member)
  if parent ~= '' then add(p .. 'children:' .. parent, createdAt, member) end
  if waiting(status) then add(p .. 'due', runAt, member) end
  if finishedAt ~= '' then add(p .. 'finished', finishedAt, member) end
  if callbackAt ~= '' then add(p .. 'callbacks', callbackAt, member) end
  counts[status] = (counts[status] or 0) + 1
  position = position + 1
end
for key, list in pairs(pairs_of) do
  if #list > 0 then redis.call('ZADD', key, unpack(list)) end
end
for status, n in pairs(counts) do redis.call('HSET', p .. 'batch:' .. id .. ':c', status, n) end
return {1}`);

/** ARGV: batch id, expected rev, JSON, finished ('' or ms), pending. Compare-and-set: 1, or 0 having written nothing. */
export const BATCH_REPLACE = batchScript(`
local id = ARGV[1]
if redis.call('HGET', batch(id), 'rev') ~= ARGV[2] then return 0 end
redis.call('HSET', batch(id), 'r', ARGV[3], 'finished', ARGV[4], 'pending', ARGV[5])
redis.call('HINCRBY', batch(id), 'rev', 1)
indexBatch(id)
return 1`);

/** ARGV: batch id, from index, limit. The members' fields (READ_FIELDS), in index order. */
export const BATCH_MEMBERS = batchScript(`
local ids = redis.call('ZRANGEBYSCORE', p .. 'batch:' .. ARGV[1] .. ':m', ARGV[2], '+inf', 'LIMIT', 0, tonumber(ARGV[3]))
local out = {}
for _, id in ipairs(ids) do
  local h = read(id)
  if h[1] then out[#out + 1] = h end
end
return out`);

/** ARGV: before (ms), limit. Deletes finished batches older than that with no callback pending; returns how many. */
export const BATCH_PURGE = batchScript(`
local n = 0
for _, id in ipairs(redis.call('ZRANGEBYSCORE', p .. 'batches:finished', '-inf', '(' .. ARGV[1], 'LIMIT', 0, tonumber(ARGV[2]))) do
  local h = redis.call('HMGET', batch(id), 'pending', 'idem')
  if h[1] ~= '1' then
    if h[2] and h[2] ~= '' then redis.call('DEL', p .. 'batchidem:' .. h[2]) end
    redis.call('DEL', batch(id), p .. 'batch:' .. id .. ':m', p .. 'batch:' .. id .. ':c')
    redis.call('ZREM', p .. 'batches:finished', id)
    redis.call('ZREM', p .. 'batches:open', id)
    n = n + 1
  end
end
return n`);
