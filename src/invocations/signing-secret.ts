// The secret callbacks are signed with. Configured, or made once and kept in the data directory
// (readable by its owner only) so receivers can keep verifying across restarts; in a cluster,
// one for every node, shared through the store (the first node's).
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { MembershipStore } from '../store/membership-store.js';

const SECRET_FILE = 'callback-signing-secret';

export function callbackSecret(configured: string | null, dataDir: string): string {
  if (configured !== null) return configured;
  const file = join(dataDir, SECRET_FILE);
  try {
    return readFileSync(file, 'utf8').trim();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  const secret = `whsec_${randomBytes(32).toString('base64')}`;
  // 'wx': if another process made one in the meantime, this fails rather than replacing it.
  writeFileSync(file, `${secret}\n`, { mode: 0o600, flag: 'wx' });
  return secret;
}

/** The callback secret of this node: in a cluster the one every node signs with (the first one offered wins). */
export async function sharedCallbackSecret(configured: string | null, dataDir: string, membership: MembershipStore | null): Promise<string> {
  const own = callbackSecret(configured, dataDir);
  if (configured !== null || membership === null) return own;
  return membership.sharedSecret('callbacks', own);
}
