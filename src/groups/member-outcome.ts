// What happened to each member of a group operation that did not go through, as the problem
// document's `members` list shows it.
import { WispError } from '../errors.js';

export interface MemberOutcome {
  /** The member's position in the create request. */
  index: number;
  function: string;
  /** `ready`: it could have started; `stopped`: it started and was undone; `failed`: see code. */
  result: 'ready' | 'stopped' | 'failed';
  code?: string;
  detail?: string;
  shortfall?: unknown;
}

/** One line for the problem's detail: the first member that failed, and how many did. */
export function describeMemberFailure(outcomes: MemberOutcome[]): string {
  const failed = outcomes.filter((o) => o.result === 'failed');
  const first = failed[0];
  if (!first) return 'no member failed';
  const more = failed.length > 1 ? ` (and ${failed.length - 1} more; see members)` : '';
  return `member ${first.index} (${first.function}) failed: ${first.code}: ${first.detail}${more}`;
}

/** A member's failure as its outcome: the error's code and message, and any shortfall. */
export function memberError(index: number, fn: string, err: unknown): MemberOutcome {
  if (err instanceof WispError) {
    return { index, function: fn, result: 'failed', code: err.code, detail: err.message, ...(err.extensions.shortfall ? { shortfall: err.extensions.shortfall } : {}) };
  }
  return { index, function: fn, result: 'failed', code: 'INTERNAL_ERROR', detail: String(err) };
}
