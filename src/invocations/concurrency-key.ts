// The key of a call under its function's concurrencyControl (pynenc's concurrency control):
// calls pending at once with one key run once. By arguments the key is the function and a hash
// of its input as canonical JSON, so {"a":1,"b":2} and {"b":2,"a":1} are one call.
import { createHash } from 'node:crypto';
import { canonicalJson } from '../common/canonical-json.js';
import type { ConcurrencyControl } from '../store/records.js';

/** The call's key, or undefined when its function does not control concurrency. */
export function concurrencyKey(fn: string, control: ConcurrencyControl | undefined, input: unknown): string | undefined {
  if (!control || control.mode === 'off') return undefined;
  if (control.key === 'function') return fn;
  return `${fn}:${createHash('sha256').update(canonicalJson(input ?? null)).digest('base64url')}`;
}

/** What a `reject` answers to a call whose key is held by `pendingId`. */
export function pendingDetail(fn: string, control: ConcurrencyControl, pendingId: string, status: string): string {
  const what = control.key === 'function' ? `a call of "${fn}"` : `a call of "${fn}" with this input`;
  return `${what} is already pending (invocation ${pendingId}, ${status}) and the function's concurrencyControl is {key: "${control.key}", mode: "reject"}; wait for it, or read its result`;
}
