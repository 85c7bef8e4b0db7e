// The batch store on Redis: the layout and the scripts are in redis-batch-scripts.ts. A batch
// and its members are written by one script, so a batch is stored whole or not at all; changes
// to a batch read it, change it in JS and write it with a compare-and-set on its revision.
import type { Redis } from 'ioredis';
import { BatchChanges, batchScope, callbackPending as pending, noCounts, type BatchChange, type BatchStore, type StatusCounts, type SubmittedBatch } from './batch-store.js';
import { defineScripts, type Script } from './redis-scripts.js';
import * as lua from './redis-batch-scripts.js';
import { decode, encode, type Fields } from './redis-invocation-fields.js';
import type { BatchRecord, InvocationRecord, InvocationStatus } from './records.js';


const SCRIPTS = {
  wispBatchCreate: lua.BATCH_CREATE,
  wispBatchReplace: lua.BATCH_REPLACE,
  wispBatchMembers: lua.BATCH_MEMBERS,
  wispBatchPurge: lua.BATCH_PURGE,
} as const;

const PURGE_PAGE = 500;


export class RedisBatchStore extends BatchChanges implements BatchStore {
  readonly #redis: Redis;
  readonly #prefix: string;
  readonly #run: Record<keyof typeof SCRIPTS, Script>;

  constructor(redis: Redis, storePrefix: string) {
    super();
    // The invocation store's namespace: a batch's script writes its members there.
    const prefix = `${storePrefix}invocations:`;
    this.#redis = redis;
    this.#prefix = prefix;
    this.#run = defineScripts(redis, prefix, SCRIPTS);
  }

  async submit(batch: BatchRecord, members: readonly InvocationRecord[]): Promise<SubmittedBatch> {
    const idem = batch.idempotencyKey === null ? '' : `${batchScope(batch)}\u0000${batch.idempotencyKey}`;
    const args: (string | number)[] = [batch.id, JSON.stringify(batch), idem, batch.createdAt, pending(batch)];
    for (const member of members) args.push(...encode(member));
    const answer = (await this.#run.wispBatchCreate(args)) as [number, string?];
    if (answer[0] === 1) return { batch, existed: false };
    return { batch: JSON.parse(answer[1]!) as BatchRecord, existed: true };
  }

  async get(id: string): Promise<BatchRecord | undefined> {
    return (await this.#read(id))?.batch;
  }

  async #read(id: string): Promise<{ batch: BatchRecord; rev: string } | undefined> {
    const [r, rev] = await this.#redis.hmget(`${this.#prefix}batch:${id}`, 'r', 'rev');
    return r ? { batch: JSON.parse(r) as BatchRecord, rev: rev ?? '0' } : undefined;
  }

  async members(id: string, from: number, limit: number): Promise<InvocationRecord[]> {
    return ((await this.#run.wispBatchMembers(id, from, limit)) as Fields[]).map(decode);
  }

  async counts(id: string): Promise<StatusCounts> {
    const counts = noCounts();
    for (const [status, n] of Object.entries(await this.#redis.hgetall(`${this.#prefix}batch:${id}:c`))) {
      if (status in counts) counts[status as InvocationStatus] = Number(n);
    }
    return counts;
  }

  async open(limit: number): Promise<BatchRecord[]> {
    const ids = await this.#redis.zrange(`${this.#prefix}batches:open`, 0, limit - 1);
    if (ids.length === 0) return [];
    const rows = await this.#redis.pipeline(ids.map((id) => ['hget', `${this.#prefix}batch:${id}`, 'r'])).exec();
    return (rows ?? []).flatMap(([err, r]) => {
      if (err) throw err;
      return typeof r === 'string' ? [JSON.parse(r) as BatchRecord] : [];
    });
  }

  async purgeFinishedBefore(time: number): Promise<number> {
    let purged = 0;
    for (;;) {
      const deleted = Number(await this.#run.wispBatchPurge(time, PURGE_PAGE));
      purged += deleted;
      if (deleted < PURGE_PAGE) return purged;
    }
  }

  /** Read, change, compare-and-set, again from the read if another writer came between. */
  protected async change(id: string, change: BatchChange): Promise<BatchRecord | undefined> {
    for (;;) {
      const read = await this.#read(id);
      if (!read || !change(read.batch)) return undefined;
      const { batch } = read;
      if ((await this.#run.wispBatchReplace(id, read.rev, JSON.stringify(batch), batch.finishedAt ?? '', pending(batch))) === 1) return batch;
    }
  }
}
