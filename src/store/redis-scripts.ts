// Lua scripts as commands of an ioredis client: defined once per client (every store built on
// one connection shares them), each called with the store's key prefix as its one key.
import type { Redis } from 'ioredis';

/** Called with its arguments, or with one array of them (for many: a spread of 100,000 overflows the call stack). */
export type Script = (...args: (string | number)[] | [readonly (string | number)[]]) => Promise<unknown>;

/** `scripts` (name → Lua text) as functions that pass `prefix` as KEYS[1], then their arguments. */
export function defineScripts<K extends string>(redis: Redis, prefix: string, scripts: Record<K, string>): Record<K, Script> {
  for (const [name, text] of Object.entries<string>(scripts)) {
    if (!(name in redis)) redis.defineCommand(name, { numberOfKeys: 1, lua: text });
  }
  const client = redis as unknown as Record<string, (...args: unknown[]) => Promise<unknown>>;
  // One array argument (ioredis flattens it): a spread of many arguments would overflow the call stack.
  const call = (name: string, args: unknown[]) => client[name]!.call(redis, prefix, args.length === 1 && Array.isArray(args[0]) ? args[0] : args);
  return Object.fromEntries(Object.keys(scripts).map((name) => [name, (...args: unknown[]) => call(name, args)])) as Record<K, Script>;
}
