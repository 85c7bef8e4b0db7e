// The one clock of a cluster (design §5.1): Lua that sets `now`, in ms, from Redis TIME, for the
// scripts that compare leases. No two nodes' own clocks are ever compared.
export const REDIS_NOW = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
`;
