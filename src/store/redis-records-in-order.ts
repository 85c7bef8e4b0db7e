// One Lua script several Redis stores list with: the `record` field of each hash named in a
// sorted set, in the set's order, in one round trip.

/** KEYS[1]: the key prefix. ARGV: the sorted set, and the prefix of the hashes (each after KEYS[1]). */
export const RECORDS_IN_ORDER = `
local out = {}
for _, id in ipairs(redis.call('ZRANGE', KEYS[1] .. ARGV[1], 0, -1)) do
  local record = redis.call('HGET', KEYS[1] .. ARGV[2] .. id, 'record')
  if record then out[#out + 1] = record end
end
return out`;
