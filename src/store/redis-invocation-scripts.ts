// The Lua scripts of the Redis invocation store: every step that reads and then writes, or that
// writes several keys, runs as one script, so concurrent nodes never see half of one.
//
// An invocation is a hash under `inv:ID`: `r` (the record as JSON, written only by JS), beside it
// the fields the scripts select on (`status`, `runAt`, `createdAt`, `finishedAt`, `callbackAt`,
// `fn`, `parent`, `idem`), `attempts` and `startedAt`, which a claim changes without touching the
// JSON (Lua's cjson would not carry every JSON value through unchanged), a revision `rev` bumped
// by every write (for compare-and-set), and the lease: `token`, `owner`, `until`. Reading
// overlays `status`, `attempts` and `startedAt` on `r`. Indexes are sorted sets: `due` (waiting
// and unleased, by runAt), `leased` (by lease expiry), `created`, `fn:NAME`, `st:STATUS` and
// `children:ID` (by createdAt), `finished` (by finishedAt), `callbacks` (by when due). A batch
// member's hash has `batch`, its batch's id, whose counts by status index() keeps.
// One created with a concurrency key has `pend`, the key, and `pend:KEY` names it until it is
// final (index() lets it go).
//
// KEYS[1] is the key prefix. A record's fields come as 12 arguments, in this order: id, r,
// status, attempts, startedAt, runAt, createdAt, finishedAt, callbackAt, fn, parent, idem.

/** What a script returns per record: these hash fields, in this order. */
export const READ_FIELDS = ['r', 'status', 'attempts', 'startedAt'] as const;

const PRELUDE = `
local p = KEYS[1]
local function inv(id) return p .. 'inv:' .. id end
local function waiting(status) return status == 'queued' or status == 'retrying' end
local function final(status) return status == 'succeeded' or status == 'failed' or status == 'cancelled' end

local function read(id)
  return redis.call('HMGET', inv(id), 'r', 'status', 'attempts', 'startedAt')
end

-- Keeps every index of invocation id in step with its hash.
local function index(id, old)
  local h = redis.call('HMGET', inv(id), 'status', 'runAt', 'createdAt', 'finishedAt', 'callbackAt', 'fn', 'parent', 'token', 'batch', 'pend')
  local status, runAt, createdAt, finishedAt, callbackAt, fn, parent, token, batch, pend = h[1], h[2], h[3], h[4], h[5], h[6], h[7], h[8], h[9], h[10]
  if old and old ~= status then
    redis.call('ZREM', p .. 'st:' .. old, id)
    -- A batch member: its batch's counts by status (batch:ID:c) follow it.
    if batch then
      redis.call('HINCRBY', p .. 'batch:' .. batch .. ':c', old, -1)
      redis.call('HINCRBY', p .. 'batch:' .. batch .. ':c', status, 1)
    end
  end
  redis.call('ZADD', p .. 'st:' .. status, createdAt, id)
  redis.call('ZADD', p .. 'created', createdAt, id)
  redis.call('ZADD', p .. 'fn:' .. fn, createdAt, id)
  if parent ~= '' then redis.call('ZADD', p .. 'children:' .. parent, createdAt, id) end
  if waiting(status) and not token then redis.call('ZADD', p .. 'due', runAt, id) else redis.call('ZREM', p .. 'due', id) end
  if finishedAt ~= '' then redis.call('ZADD', p .. 'finished', finishedAt, id) else redis.call('ZREM', p .. 'finished', id) end
  if callbackAt ~= '' then redis.call('ZADD', p .. 'callbacks', callbackAt, id) else redis.call('ZREM', p .. 'callbacks', id) end
  if pend and final(status) then
    if redis.call('GET', p .. 'pend:' .. pend) == id then redis.call('DEL', p .. 'pend:' .. pend) end
    redis.call('HDEL', inv(id), 'pend')
  end
end

-- Writes the record in ARGV[o .. o+11]; returns its id.
local function write(o)
  local id = ARGV[o]
  local key = inv(id)
  local old = redis.call('HGET', key, 'status')
  redis.call('HSET', key, 'r', ARGV[o + 1], 'status', ARGV[o + 2], 'attempts', ARGV[o + 3], 'startedAt', ARGV[o + 4],
    'runAt', ARGV[o + 5], 'createdAt', ARGV[o + 6], 'finishedAt', ARGV[o + 7], 'callbackAt', ARGV[o + 8],
    'fn', ARGV[o + 9], 'parent', ARGV[o + 10], 'idem', ARGV[o + 11])
  redis.call('HINCRBY', key, 'rev', 1)
  return id, old
end

local function clearLease(id)
  redis.call('HDEL', inv(id), 'token', 'owner', 'until')
  redis.call('ZREM', p .. 'leased', id)
end

local function setLease(id, token, owner, untilMs)
  redis.call('HSET', inv(id), 'token', token, 'owner', owner, 'until', untilMs)
  redis.call('ZADD', p .. 'leased', untilMs, id)
end

local function appendLogs(id, from)
  for i = from, #ARGV do redis.call('RPUSH', p .. 'logs:' .. id, ARGV[i]) end
end
`;

export const script = (body: string): string => PRELUDE + body;

/**
 * ARGV: record (12), concurrency key ('' for none), then log entries. A new record: with an
 * idempotency key known already (`idem` set), returns {0, fields of the stored one}; with a
 * concurrency key held by one not final, {2, its fields}; an id known already is an error.
 */
export const CREATE = script(`
local idem, pend = ARGV[12], ARGV[13]
if idem ~= '' then
  local existing = redis.call('GET', p .. 'idem:' .. idem)
  if existing then
    local h = read(existing)
    if h[1] then return {0, h[1], h[2], h[3], h[4]} end
  end
end
if pend ~= '' then
  local holder = redis.call('GET', p .. 'pend:' .. pend)
  if holder then
    local h = read(holder)
    if h[1] and not final(h[2]) then return {2, h[1], h[2], h[3], h[4]} end
  end
end
if redis.call('EXISTS', inv(ARGV[1])) == 1 then return redis.error_reply('invocation ' .. ARGV[1] .. ' is already stored') end
if idem ~= '' then redis.call('SET', p .. 'idem:' .. idem, ARGV[1]) end
local id = write(1)
if pend ~= '' then
  redis.call('SET', p .. 'pend:' .. pend, id)
  redis.call('HSET', inv(id), 'pend', pend)
end
index(id, nil)
appendLogs(id, 14)
return {1}`);

/**
 * ARGV: expected rev, lease ('keep' or 'clear'), record (12). Compare-and-set: writes only when
 * the stored rev is the expected one; returns 1, or 0 having written nothing.
 */
export const REPLACE = script(`
local id = ARGV[3]
if redis.call('HGET', inv(id), 'rev') ~= ARGV[1] then return 0 end
local _, old = write(3)
if ARGV[2] == 'clear' then clearLease(id) end
index(id, old)
return 1`);

/** ARGV: token, record (12), then log entries. Writes an attempt's outcome if `token` still holds the lease. */
export const SETTLE = script(`
local id = ARGV[2]
if redis.call('HGET', inv(id), 'token') ~= ARGV[1] then return 0 end
local _, old = write(2)
clearLease(id)
index(id, old)
appendLogs(id, 14)
return 1`);

/**
 * ARGV: now, owner, lease until, then per invocation an id and a token. Claims those still
 * waiting, unleased and due; returns {id, r, status, attempts, startedAt, token} per claim.
 */
export const CLAIM = script(`
local now = tonumber(ARGV[1])
local out = {}
for i = 4, #ARGV, 2 do
  local id, token = ARGV[i], ARGV[i + 1]
  local key = inv(id)
  local h = redis.call('HMGET', key, 'status', 'token', 'runAt', 'startedAt')
  if h[1] and waiting(h[1]) and not h[2] and tonumber(h[3]) <= now then
    redis.call('HSET', key, 'status', 'running')
    redis.call('HINCRBY', key, 'attempts', 1)
    if h[4] == '' then redis.call('HSET', key, 'startedAt', ARGV[1]) end
    redis.call('HINCRBY', key, 'rev', 1)
    setLease(id, token, ARGV[2], ARGV[3])
    index(id, h[1])
    local r = read(id)
    out[#out + 1] = {id, r[1], r[2], r[3], r[4], token}
  end
end
return out`);

/** ARGV: owner, lease until, then per lease an id and its token. Returns the ids renewed. */
export const RENEW = script(`
local out = {}
for i = 3, #ARGV, 2 do
  local id, token = ARGV[i], ARGV[i + 1]
  local h = redis.call('HMGET', inv(id), 'token', 'owner')
  if h[1] == token and h[2] == ARGV[1] then
    setLease(id, token, ARGV[1], ARGV[2])
    out[#out + 1] = id
  end
end
return out`);

/**
 * ARGV: now, owner, lease until, this node's prefix ("node/"), a token seed. Takes over
 * expired leases and those of this node's earlier incarnations; returns
 * {id, r, status, attempts, startedAt, token} per one.
 */
export const RECLAIM = script(`
local now, owner, untilMs, node, seed = ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5]
local taken = {}
for _, id in ipairs(redis.call('ZRANGEBYSCORE', p .. 'leased', '-inf', now)) do taken[#taken + 1] = id end
for _, id in ipairs(redis.call('ZRANGEBYSCORE', p .. 'leased', '(' .. now, '+inf')) do
  local held = redis.call('HGET', inv(id), 'owner')
  if held and held ~= owner and string.sub(held, 1, #node) == node then taken[#taken + 1] = id end
end
local out = {}
for n, id in ipairs(taken) do
  local token = id .. '/' .. seed .. ':' .. n
  redis.call('HINCRBY', inv(id), 'rev', 1)
  setLease(id, token, owner, untilMs)
  local r = read(id)
  out[#out + 1] = {id, r[1], r[2], r[3], r[4], token}
end
return out`);

/** ARGV: now, limit, then the functions to skip. Waiting invocations due at now, oldest first: their fields. */
export const DUE = script(`
local now, limit = ARGV[1], tonumber(ARGV[2])
local skip = {}
for i = 3, #ARGV do skip[ARGV[i]] = true end
local out = {}
local offset = 0
while #out < limit do
  local ids = redis.call('ZRANGEBYSCORE', p .. 'due', '-inf', now, 'LIMIT', offset, 100)
  if #ids == 0 then break end
  for _, id in ipairs(ids) do
    if #out >= limit then break end
    if not skip[redis.call('HGET', inv(id), 'fn')] then
      local r = read(id)
      out[#out + 1] = {r[1], r[2], r[3], r[4]}
    end
  end
  offset = offset + #ids
end
return out`);

/**
 * ARGV: the index to walk (newest first), limit, function filter, status filter ('' for none),
 * cursor id (''). Newest first, from before the cursor: their fields.
 */
export const LIST = script(`
local indexKey, limit, fn, status, before = p .. ARGV[1], tonumber(ARGV[2]), ARGV[3], ARGV[4], ARGV[5]
local max = '+inf'
local beforeScore
if before ~= '' then
  beforeScore = redis.call('ZSCORE', p .. 'created', before)
  if not beforeScore then return {} end
  max = beforeScore
end
local out = {}
local offset = 0
while #out < limit do
  local ids = redis.call('ZREVRANGEBYSCORE', indexKey, max, '-inf', 'WITHSCORES', 'LIMIT', offset, 100)
  if #ids == 0 then break end
  for i = 1, #ids, 2 do
    if #out >= limit then break end
    local id, score = ids[i], ids[i + 1]
    local older = not beforeScore or tonumber(score) < tonumber(beforeScore) or id < before
    if older then
      local h = redis.call('HMGET', inv(id), 'fn', 'status')
      if (fn == '' or h[1] == fn) and (status == '' or h[2] == status) then
        local r = read(id)
        out[#out + 1] = {r[1], r[2], r[3], r[4]}
      end
    end
  end
  offset = offset + #ids / 2
end
return out`);

/** ARGV: now, limit, lease until. Callbacks due at now, each pushed to `until`: their fields. */
export const CLAIM_CALLBACKS = script(`
local out = {}
for _, id in ipairs(redis.call('ZRANGEBYSCORE', p .. 'callbacks', '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[2]))) do
  redis.call('ZADD', p .. 'callbacks', ARGV[3], id)
  redis.call('HSET', inv(id), 'callbackAt', ARGV[3])
  local r = read(id)
  out[#out + 1] = {r[1], r[2], r[3], r[4]}
end
return out`);

/**
 * ARGV: time, limit, offset. Of the invocations that finished before `time`, from `offset` on,
 * deletes up to `limit` that have no callback left to deliver; returns {deleted, scanned}.
 */
export const PURGE = script(`
local n = 0
local ids = redis.call('ZRANGEBYSCORE', p .. 'finished', '-inf', '(' .. ARGV[1], 'LIMIT', tonumber(ARGV[3]), tonumber(ARGV[2]))
for _, id in ipairs(ids) do
  local h = redis.call('HMGET', inv(id), 'status', 'fn', 'parent', 'idem', 'callbackAt')
  if not h[5] or h[5] == '' then
    if h[1] then redis.call('ZREM', p .. 'st:' .. h[1], id) end
    if h[2] then redis.call('ZREM', p .. 'fn:' .. h[2], id) end
    if h[3] and h[3] ~= '' then redis.call('ZREM', p .. 'children:' .. h[3], id) end
    if h[4] and h[4] ~= '' then redis.call('DEL', p .. 'idem:' .. h[4]) end
    redis.call('ZREM', p .. 'created', id)
    redis.call('ZREM', p .. 'finished', id)
    redis.call('DEL', inv(id), p .. 'logs:' .. id)
    n = n + 1
  end
end
return {n, #ids}`);
