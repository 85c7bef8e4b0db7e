// The Redis backend: every store on one Redis connection, keys under `store.redisPrefix`, blobs
// cached on this machine under the data dir. Redis is reached before Wisp starts to serve (an
// unreachable one is a StoreUnreachableError naming the URL); later, while it cannot be
// reached, each store operation fails fast as 503 STORE_UNAVAILABLE, and the client reconnects
// by itself. Nothing acknowledged is lost: an answer is sent after Redis has the write (with
// `appendfsync always`, after its fsync).
import { join } from 'node:path';
import { Redis, ReplyError } from 'ioredis';
import { WispError } from '../errors.js';
import { BullmqWorkQueue } from './bullmq-work-queue.js';
import { RedisBlobStore } from './redis-blob-store.js';
import { RedisEnvStore } from './redis-env-store.js';
import { RedisFunctionStore } from './redis-function-store.js';
import { RedisGroupStore } from './redis-group-store.js';
import { RedisInstanceStore } from './redis-instance-store.js';
import { RedisBatchStore } from './redis-batch-store.js';
import { RedisInvocationStore } from './redis-invocation-store.js';
import { RedisMembershipStore } from './redis-membership-store.js';
import { RedisMessageBus } from './redis-message-bus.js';
import { RedisSlotStore } from './redis-slot-store.js';
import { RedisTriggerStore } from './redis-trigger-store.js';
import type { Stores } from './stores.js';

export class StoreUnreachableError extends Error {
  override name = 'StoreUnreachableError';
}

/** How long the first connection may take to be ready before Wisp gives up starting. */
const CONNECT_DEADLINE_MS = 10_000;

/** How long one command may wait for Redis's answer. */
const COMMAND_TIMEOUT_MS = 5_000;

/** How long a store operation waits for a reconnection before it fails as STORE_UNAVAILABLE. */
const RETRIES_PER_REQUEST = 2;

export async function createRedisStores(url: string, prefix: string, dataDir: string, log: (message: string) => void): Promise<Stores> {
  const shown = redactedUrl(url);
  const redis = new Redis(url, {
    lazyConnect: true,
    maxRetriesPerRequest: RETRIES_PER_REQUEST,
    // A Redis that holds the connection and stops answering (paused, a network that drops
    // packets) must not hold requests forever.
    commandTimeout: COMMAND_TIMEOUT_MS,
    // Reconnects for as long as it takes, never more than a second apart.
    retryStrategy: (times) => Math.min(times * 100, 1000),
  });
  let reported = false;
  let lastError: Error | undefined;
  redis.on('error', (err: Error) => {
    lastError = err;
    if (reported) return;
    reported = true;
    log(`the Redis store at ${shown} cannot be reached: ${err.message}; requests that need it answer 503 STORE_UNAVAILABLE until it is back`);
  });
  redis.on('ready', () => {
    if (reported) log(`the Redis store at ${shown} is reachable again`);
    reported = false;
  });
  let deadline: NodeJS.Timeout | undefined;
  try {
    // A server that takes the connection and never answers (not Redis, or one stopped) would
    // otherwise hold the start forever.
    const silent = new Promise<never>((_resolve, reject) => {
      deadline = setTimeout(() => reject(new Error(`it accepted the connection but did not answer within ${CONNECT_DEADLINE_MS / 1000} s`)), CONNECT_DEADLINE_MS);
    });
    await Promise.race([redis.connect(), silent]);
  } catch (err) {
    redis.disconnect();
    // The client's own rejection only says the connection closed; the error event says why.
    throw new StoreUnreachableError(`cannot reach the Redis store at ${shown}: ${(lastError ?? (err as Error)).message}`);
  } finally {
    clearTimeout(deadline);
  }
  const bus = new RedisMessageBus(redis, prefix);
  const queue = new BullmqWorkQueue(redis, prefix, log);
  for (const warning of riskySettings(await settingsOf(redis))) log(`the Redis store at ${shown}: ${warning}`);
  return {
    functions: guarded(new RedisFunctionStore(redis, prefix)),
    env: guarded(new RedisEnvStore(redis, prefix)),
    instances: guarded(new RedisInstanceStore(redis, prefix)),
    groups: guarded(new RedisGroupStore(redis, prefix)),
    invocations: guarded(new RedisInvocationStore(redis, prefix)),
    batches: guarded(new RedisBatchStore(redis, prefix)),
    triggers: guarded(new RedisTriggerStore(redis, prefix)),
    blobs: guarded(new RedisBlobStore(redis, prefix, join(dataDir, 'blob-cache'))),
    cluster: { membership: guarded(new RedisMembershipStore(redis, prefix)), bus, slots: guarded(new RedisSlotStore(redis, prefix)), queue: guarded(queue) },
    close: async () => {
      await queue.close();
      await bus.close();
      await redis.quit().catch(() => redis.disconnect());
    },
  };
}

/**
 * The store, with every failure to reach Redis turned into STORE_UNAVAILABLE (a 503 with
 * Retry-After). An error Redis itself answered (a script refusing a write) passes unchanged.
 */
function guarded<S extends object>(store: S): S {
  return new Proxy(store, {
    get(target, key) {
      const value: unknown = Reflect.get(target, key, target);
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        const out: unknown = (value as (...a: unknown[]) => unknown).apply(target, args);
        return out instanceof Promise ? out.catch(unavailable) : out;
      };
    },
  });
}

function unavailable(err: unknown): never {
  if (err instanceof ReplyError || err instanceof WispError || !(err instanceof Error)) throw err;
  // Sent, and not answered in time: it may have been applied.
  if (/Command timed out/.test(err.message)) {
    throw new WispError('STORE_UNAVAILABLE', `the store did not answer within ${COMMAND_TIMEOUT_MS / 1000} s; what this request asked for may or may not have been done, so check before sending it again`, { retryAfterSeconds: 1 }, { cause: err });
  }
  // Errors of the client: the connection is down, closed, or did not come back in time.
  if (err.name === 'MaxRetriesPerRequestError' || /connection|stream|ECONN|ETIMEDOUT|EPIPE|socket/i.test(err.message)) {
    throw new WispError('STORE_UNAVAILABLE', `the store cannot be reached just now (${err.message}); nothing was changed by this request, so it can be sent again`, { retryAfterSeconds: 1 }, { cause: err });
  }
  throw err;
}

/** The server settings Wisp's guarantees rest on; empty when CONFIG is not allowed (a managed Redis). */
async function settingsOf(redis: Redis): Promise<Record<string, string>> {
  try {
    const pairs = (await redis.config('GET', 'appendonly', 'appendfsync', 'maxmemory-policy')) as string[];
    const out: Record<string, string> = {};
    for (let i = 0; i + 1 < pairs.length; i += 2) out[pairs[i]!] = pairs[i + 1]!;
    return out;
  } catch {
    return {};
  }
}

/**
 * What in a Redis's settings breaks a promise Wisp makes: an acknowledged write survives a
 * crash only with the append-only file fsynced on every write, and an evicting memory policy
 * would drop records. Wisp runs all the same; it says so once, at the start.
 */
export function riskySettings(settings: Record<string, string>): string[] {
  const out: string[] = [];
  if (settings.appendonly !== undefined && settings.appendonly !== 'yes') {
    out.push('appendonly is "no": a Redis crash loses what Wisp acknowledged since its last snapshot; set appendonly yes');
  } else if (settings.appendfsync !== undefined && settings.appendfsync !== 'always') {
    out.push(`appendfsync is "${settings.appendfsync}": a Redis crash can lose up to a second of what Wisp acknowledged; set appendfsync always`);
  }
  const policy = settings['maxmemory-policy'];
  if (policy !== undefined && policy !== 'noeviction') {
    out.push(`maxmemory-policy is "${policy}": a full Redis would evict Wisp's records; set maxmemory-policy noeviction`);
  }
  return out;
}

/** The URL without its password, for messages. */
function redactedUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return url.replace(/\/\/[^@]*@/, '//***@');
  }
}
