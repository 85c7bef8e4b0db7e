// The one place stores are made: the backend `config` selects, built whole.
import type { Config } from '../config.js';
import { createEmbeddedStores } from './embedded-backend.js';
import type { Stores } from './stores.js';

/** The stores `config` asks for: today the embedded backend (SQLite and files in the data dir). */
export function createStores(config: Config): Stores {
  return createEmbeddedStores(config.dataDir);
}
