// Requests from this node to a peer's internal routes (design §5.3): undici, one connection pool
// per peer, each request signed with the cluster secret (internal-auth.ts). A peer answers an
// operation with {ok, value} or {ok: false, error}, the error rebuilt here as the WispError it
// was. What went wrong on the way is told apart, because what may follow differs: a request
// that never reached the peer (it refused the connection) may go elsewhere; one that was sent
// and got no answer may have run, and is never sent again.
import { Pool } from 'undici';
import { WispError, type ErrorCode, catalogue } from '../errors.js';
import { INTERNAL_TYPE, signRequest } from './internal-auth.js';

/** The answer of an internal route: a value, or the error the operation ended with. */
export type PeerAnswer<T> = { ok: true; value: T } | { ok: false; error: { code: string; message: string; extensions?: Record<string, unknown> } };

/** The peer could not be reached at all: nothing was sent. */
export class PeerUnreachable extends Error {
  override name = 'PeerUnreachable';
}

/** The request went out and no answer came back: it may have run. */
export class PeerNoAnswer extends Error {
  override name = 'PeerNoAnswer';
}

/** undici's codes for a connection that was never made. */
const NOT_SENT = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN', 'UND_ERR_CONNECT_TIMEOUT']);

export function rebuiltError(error: { code: string; message: string; extensions?: Record<string, unknown> }): WispError {
  const code = (error.code in catalogue ? error.code : 'INTERNAL_ERROR') as ErrorCode;
  return new WispError(code, error.message, error.extensions ?? {});
}

export class PeerClient {
  readonly #secret: () => string;
  readonly #pools = new Map<string, Pool>();

  constructor(secret: () => string) {
    this.#secret = secret;
  }

  /** POSTs `body` (JSON) to `path` on the peer at `address`; its answer, or the error it ended with. */
  async post<T>(address: string, path: string, body: unknown, timeoutMs: number): Promise<T> {
    const bytes = Buffer.from(JSON.stringify(body ?? null));
    let pool = this.#pools.get(address);
    if (!pool) {
      pool = new Pool(address, { connections: 64, pipelining: 1, connectTimeout: 2000 });
      this.#pools.set(address, pool);
    }
    let status: number;
    let text: string;
    try {
      const res = await pool.request({
        method: 'POST',
        path,
        headers: { 'content-type': INTERNAL_TYPE, ...signRequest(this.#secret(), 'POST', path, bytes) },
        body: bytes,
        headersTimeout: timeoutMs,
        bodyTimeout: timeoutMs,
      });
      status = res.statusCode;
      text = await res.body.text();
    } catch (err) {
      const code = (err as { code?: string }).code ?? '';
      if (NOT_SENT.has(code)) throw new PeerUnreachable(`${address} cannot be reached (${code})`);
      throw new PeerNoAnswer(`${address} did not answer (${code || (err as Error).message})`);
    }
    let answer: PeerAnswer<T>;
    try {
      answer = JSON.parse(text) as PeerAnswer<T>;
    } catch {
      throw new WispError('INTERNAL_ERROR', `node ${address} answered ${status} with a body that is not JSON`);
    }
    if (status !== 200) {
      // A problem document: the route itself refused (authentication, a framework error).
      const problem = answer as unknown as { code?: string; detail?: string };
      throw rebuiltError({ code: problem.code ?? 'INTERNAL_ERROR', message: `node ${address}: ${problem.detail ?? `status ${status}`}` });
    }
    if (!answer.ok) throw rebuiltError(answer.error);
    return answer.value;
  }

  async close(): Promise<void> {
    await Promise.all([...this.#pools.values()].map((pool) => pool.close()));
    this.#pools.clear();
  }
}
