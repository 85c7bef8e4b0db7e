// The one place stores are made: the backend `config` selects, built whole.
import type { Config } from '../config.js';
import { createEmbeddedStores } from './embedded-backend.js';
import { createRedisStores } from './redis-backend.js';
import type { Stores } from './stores.js';

/**
 * The stores `config` asks for: Redis when `store.redisUrl` is set (rejecting with a
 * StoreUnreachableError when it cannot be reached), else the embedded backend (SQLite and files
 * in the data dir).
 */
export function createStores(config: Config, log: (message: string) => void): Promise<Stores> {
  if (config.store.redisUrl !== null) return createRedisStores(config.store.redisUrl, config.store.redisPrefix, config.dataDir, log);
  return Promise.resolve(createEmbeddedStores(config.dataDir));
}
