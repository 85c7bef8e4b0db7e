// How an invocation record travels to and from the Redis store's scripts
// (redis-invocation-scripts.ts): the 12 arguments a script writes a record from, and the hash
// fields a script reads one back as. Shared by the invocation and batch stores.
import { callbackAt, idempotencyScope } from './invocation-store.js';
import type { InvocationRecord, InvocationStatus } from './records.js';

/** What a script returns per record: READ_FIELDS' values. */
export type Fields = [r: string, status: string, attempts: string, startedAt: string];

/** The record a script's fields describe: the JSON, with what claims change laid over it. */
export function decode([r, status, attempts, startedAt]: Fields): InvocationRecord {
  const record = JSON.parse(r) as InvocationRecord;
  record.status = status as InvocationStatus;
  record.attempts = Number(attempts);
  record.startedAt = startedAt === '' ? null : Number(startedAt);
  return record;
}

/** The 12 arguments a script takes for a record, in the order redis-invocation-scripts.ts reads them. */
export function encode(record: InvocationRecord): (string | number)[] {
  return [
    record.id,
    JSON.stringify(record),
    record.status,
    record.attempts,
    record.startedAt ?? '',
    record.runAt,
    record.createdAt,
    record.finishedAt ?? '',
    callbackAt(record) ?? '',
    record.function,
    record.parentId ?? '',
    record.idempotencyKey === null ? '' : `${idempotencyScope(record)}\u0000${record.idempotencyKey}`,
  ];
}

