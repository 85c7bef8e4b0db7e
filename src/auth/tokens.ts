// Bearer tokens: how they are written down (sha256 only, never the token) and how a presented
// token is found. Tokens are long random strings, so one sha256 is the right hash: a slow KDF
// protects guessable passwords, and only costs time on every request here.
import { createHash, randomBytes } from 'node:crypto';
import { isIP } from 'node:net';

/** admin ⊃ deploy ⊃ invoke. */
export type Scope = 'admin' | 'deploy' | 'invoke';

export const SCOPES: readonly Scope[] = ['invoke', 'deploy', 'admin'];

export interface TokenEntry {
  /** Shown in logs and metrics instead of the token. */
  readonly name: string;
  readonly scope: Scope;
  /** Hex sha256 of the token. */
  readonly sha256: string;
}

/** Shorter than this is a password, not a token: refused rather than trusted. */
export const MIN_TOKEN_LENGTH = 16;

export function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

/** A fresh token: 32 random bytes, base64url, with a prefix that makes it easy to spot in a leak. */
export function newToken(): string {
  return `wisp_${randomBytes(32).toString('base64url')}`;
}

/** Whether `granted` covers what a route needs. */
export function scopeCovers(granted: Scope, needed: Scope): boolean {
  return SCOPES.indexOf(granted) >= SCOPES.indexOf(needed);
}

export class TokenListError extends Error {
  override name = 'TokenListError';
}

/**
 * WISP_TOKENS: `token:scope,token:scope`. Entries are named env-1, env-2... so that logs can say
 * which one was used without showing it.
 */
export function parseTokenList(text: string): TokenEntry[] {
  const entries: TokenEntry[] = [];
  for (const [index, item] of text.split(',').entries()) {
    const trimmed = item.trim();
    if (trimmed === '') continue;
    const at = trimmed.lastIndexOf(':');
    const token = at === -1 ? '' : trimmed.slice(0, at);
    const scope = at === -1 ? '' : trimmed.slice(at + 1);
    const position = `WISP_TOKENS entry ${index + 1}`;
    if (!SCOPES.includes(scope as Scope)) throw new TokenListError(`${position} must be token:scope with scope admin, deploy or invoke`);
    if (token.length < MIN_TOKEN_LENGTH) throw new TokenListError(`${position}: a token must be at least ${MIN_TOKEN_LENGTH} characters (npm run token -- ${scope} makes one)`);
    entries.push({ name: `env-${index + 1}`, scope: scope as Scope, sha256: hashToken(token) });
  }
  return entries;
}

/** Whether only this machine can reach `host`: a loopback address or "localhost". */
export function isLoopbackHost(host: string): boolean {
  if (host === 'localhost') return true;
  if (isIP(host) === 4) return host.startsWith('127.');
  const bare = host.replace(/^\[|\]$/g, '').toLowerCase();
  return bare === '::1' || bare.startsWith('::ffff:127.');
}

/** The tokens Wisp accepts, looked up by hash. */
export class TokenTable {
  readonly #byHash: ReadonlyMap<string, TokenEntry>;

  constructor(entries: readonly TokenEntry[]) {
    this.#byHash = new Map(entries.map((entry) => [entry.sha256, entry]));
  }

  /** False when no token is configured: then Wisp listens on loopback only, and asks for none. */
  get enabled(): boolean {
    return this.#byHash.size > 0;
  }

  find(token: string): TokenEntry | undefined {
    return this.#byHash.get(hashToken(token));
  }
}
