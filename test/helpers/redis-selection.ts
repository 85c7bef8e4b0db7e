// The Redis run of the suites (scripts/test-on-redis.mjs): with WISP_TEST_REDIS_URL set, every
// Wisp a test starts, in process or as a process, keeps its state in that Redis instead of the
// data dir, under a prefix of its own data dir, so that a restart on the same data dir finds
// its state again, as on the embedded backend.
import { createHash } from 'node:crypto';

export function redisSelection(dataDir: string): { store?: { redisUrl: string; redisPrefix: string } } {
  const url = process.env.WISP_TEST_REDIS_URL;
  if (!url) return {};
  return { store: { redisUrl: url, redisPrefix: `wisp-test:${createHash('sha256').update(dataDir).digest('hex').slice(0, 16)}:` } };
}
