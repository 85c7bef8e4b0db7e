// What a finished synchronous or nested call leaves behind: a flat summary, cheap to make on the
// hot path, turned into a full invocation record only when someone reads it.
import type { WispError } from '../errors.js';
import type { InvocationRecord, LogEntry } from '../store/records.js';
import { finish, invocationError, newRecord } from './invocation-record.js';
import { JsonText } from './json-text.js';

export interface CallSummary {
  id: string;
  function: string;
  /** 0 when the call failed before a version was picked (an unknown function). */
  version: number;
  mode: 'sync' | 'nested';
  input: unknown;
  /** What the input is charged in the call history: its size as the calling worker measured it. */
  inputBytes: number;
  parentId: string | null;
  startedAt: number;
  finishedAt: number;
  /** The result as the worker's JSON text; null when the call failed. */
  resultJson: string | null;
  error: WispError | null;
  logs: LogEntry[];
  /** Set for a synchronous method call (or constructor, `method: "constructor"`) on an instance. */
  instance?: string;
  method?: string;
}

export function toRecord(call: CallSummary): InvocationRecord {
  const record = newRecord({
    id: call.id,
    function: call.function,
    version: call.version,
    mode: call.mode,
    input: call.input,
    maxAttempts: 1,
    maxAgeMs: 0,
    parentId: call.parentId,
    ...(call.instance === undefined ? {} : { instance: call.instance, method: call.method ?? null }),
    now: call.startedAt,
  });
  record.attempts = 1;
  record.startedAt = call.startedAt;
  if (call.error) finish(record, 'failed', call.finishedAt, { error: invocationError(call.error) });
  // The result stays JSON text until the record is shown or stored.
  else finish(record, 'succeeded', call.finishedAt, { result: new JsonText(call.resultJson ?? 'null') });
  return record;
}
