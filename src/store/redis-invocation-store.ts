// The invocation store on Redis: the layout and the scripts are in redis-invocation-scripts.ts.
// Changes that need the record itself (a cancel, a rerun, a callback's state) read it, change it
// in JS with the same rules as the SQLite store, and write it with a compare-and-set on its
// revision, again from the read if another writer came between.
import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import {
  callbackStillDue,
  canRerun,
  isWaitingStatus,
  type Cancelled,
  type Claim,
  type InvocationQuery,
  type InvocationStore,
  type Lease,
  type Submitted,
} from './invocation-store.js';
import type { CallbackState, InvocationRecord, LogEntry } from './records.js';
import { decode, encode, type Fields } from './redis-invocation-fields.js';
import { defineScripts, type Script } from './redis-scripts.js';
import * as lua from './redis-invocation-scripts.js';


const SCRIPTS = {
  wispInvCreate: lua.CREATE,
  wispInvReplace: lua.REPLACE,
  wispInvSettle: lua.SETTLE,
  wispInvClaim: lua.CLAIM,
  wispInvRenew: lua.RENEW,
  wispInvReclaim: lua.RECLAIM,
  wispInvDue: lua.DUE,
  wispInvList: lua.LIST,
  wispInvClaimCallbacks: lua.CLAIM_CALLBACKS,
  wispInvPurge: lua.PURGE,
} as const;

const PURGE_PAGE = 500;

const logArgs = (logs: readonly LogEntry[]): string[] => logs.map((entry) => JSON.stringify(entry));

export class RedisInvocationStore implements InvocationStore {
  readonly #redis: Redis;
  readonly #prefix: string;
  readonly #run: Record<keyof typeof SCRIPTS, Script>;

  /** Keys start with `prefix` (for example "wisp:"), so several Wisps or test runs share a server. */
  constructor(redis: Redis, storePrefix: string) {
    // Its own namespace: its per-function index (fn:NAME) would meet the function store's keys.
    const prefix = `${storePrefix}invocations:`;
    this.#redis = redis;
    this.#prefix = prefix;
    this.#run = defineScripts(redis, prefix, SCRIPTS);
  }

  async submit(record: InvocationRecord): Promise<Submitted> {
    const answer = (await this.#run.wispInvCreate(...encode(record), record.concurrencyKey ?? '')) as [number, ...Fields];
    if (answer[0] === 1) return { record, existed: false };
    const stored = decode(answer.slice(1) as Fields);
    return answer[0] === 2 ? { record: stored, existed: true, pending: true } : { record: stored, existed: true };
  }

  async recordFinished(record: InvocationRecord, logs: readonly LogEntry[]): Promise<void> {
    // A nested call has no idempotency key, so this only ever creates.
    await this.#run.wispInvCreate(...encode(record), '', ...logArgs(logs));
  }

  async get(id: string): Promise<InvocationRecord | undefined> {
    return (await this.#read(id))?.record;
  }

  async #read(id: string): Promise<{ record: InvocationRecord; rev: string; token: string | null } | undefined> {
    const [r, status, attempts, startedAt, rev, token] = await this.#redis.hmget(this.#inv(id), 'r', 'status', 'attempts', 'startedAt', 'rev', 'token');
    if (r === null || r === undefined) return undefined;
    return { record: decode([r, status!, attempts!, startedAt!]), rev: rev ?? '0', token: token ?? null };
  }

  async logs(id: string): Promise<LogEntry[] | undefined> {
    const [[, exists], [, entries]] = (await this.#redis.multi().exists(this.#inv(id)).lrange(`${this.#prefix}logs:${id}`, 0, -1).exec()) as [
      [unknown, number],
      [unknown, string[]],
    ];
    return exists === 1 ? entries.map((entry) => JSON.parse(entry) as LogEntry) : undefined;
  }

  async list(query: InvocationQuery): Promise<InvocationRecord[]> {
    // The narrowest index there is for the query; the other filter is checked per record.
    const index = query.status !== undefined ? `st:${query.status}` : query.function !== undefined ? `fn:${query.function}` : 'created';
    const rows = (await this.#run.wispInvList(index, query.limit, query.function ?? '', query.status ?? '', query.before ?? '')) as Fields[];
    return rows.map(decode);
  }

  async children(parentId: string): Promise<InvocationRecord[]> {
    const ids = await this.#redis.zrange(`${this.#prefix}children:${parentId}`, 0, -1);
    if (ids.length === 0) return [];
    // One round trip for all of them: a call tree reads every level this way.
    const pipeline = this.#redis.pipeline();
    for (const id of ids) pipeline.hmget(this.#inv(id), ...lua.READ_FIELDS);
    const rows = ((await pipeline.exec()) ?? []).map(([err, fields]) => {
      if (err) throw err;
      return fields as (string | null)[];
    });
    return rows.filter((fields) => fields[0] !== null).map((fields) => decode(fields as Fields));
  }

  async due(now: number, limit: number, skip: readonly string[]): Promise<InvocationRecord[]> {
    return ((await this.#run.wispInvDue(now, limit, ...skip)) as Fields[]).map(decode);
  }

  async nextRunAt(): Promise<number | undefined> {
    const [, score] = await this.#redis.zrange(`${this.#prefix}due`, 0, 0, 'WITHSCORES');
    return score === undefined ? undefined : Number(score);
  }

  async claim(ids: readonly string[], lease: Lease, now: number): Promise<Claim[]> {
    if (ids.length === 0) return [];
    const args = ids.flatMap((id) => [id, `${id}/${randomUUID()}`]);
    return this.#claims(await this.#run.wispInvClaim(now, lease.owner, now + lease.ms, ...args));
  }

  #claims(rows: unknown): Claim[] {
    return (rows as [string, ...Fields, string][]).map(([, r, status, attempts, startedAt, token]) => ({ record: decode([r, status, attempts, startedAt]), token }));
  }

  async renew(tokens: readonly string[], lease: Lease, now: number): Promise<string[]> {
    if (tokens.length === 0) return [];
    // A token starts with its invocation's id (see claim).
    const args = tokens.flatMap((token) => [token.slice(0, token.lastIndexOf('/')), token]);
    const renewed = new Set((await this.#run.wispInvRenew(lease.owner, now + lease.ms, ...args)) as string[]);
    return tokens.filter((token) => renewed.has(token.slice(0, token.lastIndexOf('/'))));
  }

  async settle(token: string, record: InvocationRecord, logs: readonly LogEntry[]): Promise<boolean> {
    return (await this.#run.wispInvSettle(token, ...encode(record), ...logArgs(logs))) === 1;
  }

  async reclaim(lease: Lease, node: string, now: number): Promise<Claim[]> {
    return this.#claims(await this.#run.wispInvReclaim(now, lease.owner, now + lease.ms, `${node}/`, randomUUID()));
  }

  async cancel(id: string, end: (record: InvocationRecord) => void): Promise<Cancelled | undefined> {
    for (;;) {
      const read = await this.#read(id);
      if (!read) return undefined;
      const { record, rev } = read;
      let cancelled: Cancelled;
      if (isWaitingStatus(record.status) && read.token === null) {
        end(record);
        cancelled = { outcome: 'cancelled', record };
      } else if (record.status === 'running') {
        // The lease stays with the attempt, which ends the invocation once it stops.
        record.cancelRequested = true;
        cancelled = { outcome: 'running', record };
      } else {
        return { outcome: 'final', record };
      }
      if (await this.#replace(record, rev, 'keep')) return cancelled;
    }
  }

  async rerun(id: string, change: (record: InvocationRecord) => void): Promise<{ rerun: boolean; record: InvocationRecord } | undefined> {
    for (;;) {
      const read = await this.#read(id);
      if (!read) return undefined;
      const { record, rev } = read;
      if (!canRerun(record.status)) return { rerun: false, record };
      change(record);
      if (await this.#replace(record, rev, 'clear')) return { rerun: true, record };
    }
  }

  async claimCallbacks(now: number, limit: number, leaseMs: number): Promise<InvocationRecord[]> {
    return ((await this.#run.wispInvClaimCallbacks(now, limit, now + leaseMs)) as Fields[]).map(decode);
  }

  async nextCallbackAt(): Promise<number | undefined> {
    const [, score] = await this.#redis.zrange(`${this.#prefix}callbacks`, 0, 0, 'WITHSCORES');
    return score === undefined ? undefined : Number(score);
  }

  async settleCallback(id: string, attempts: number, state: CallbackState): Promise<InvocationRecord | undefined> {
    for (;;) {
      const read = await this.#read(id);
      if (!read) return undefined;
      const { record, rev } = read;
      if (!callbackStillDue(record, attempts)) return undefined;
      record.callback = state;
      if (await this.#replace(record, rev, 'keep')) return record;
    }
  }

  async purgeFinishedBefore(time: number): Promise<number> {
    let purged = 0;
    let offset = 0;
    for (;;) {
      const [deleted, scanned] = (await this.#run.wispInvPurge(time, PURGE_PAGE, offset)) as [number, number];
      purged += deleted;
      // Those kept (a callback still to deliver) stay in the range: step over them.
      offset += scanned - deleted;
      if (scanned < PURGE_PAGE) return purged;
    }
  }

  async #replace(record: InvocationRecord, rev: string, lease: 'keep' | 'clear'): Promise<boolean> {
    return (await this.#run.wispInvReplace(rev, lease, ...encode(record))) === 1;
  }

  #inv(id: string): string {
    return `${this.#prefix}inv:${id}`;
  }
}
