// What becomes of an attempt that was cut off: its node died (or lost its lease) while it ran.
import { WispError } from '../errors.js';
import type { InvocationRecord } from '../store/records.js';
import { finish, invocationError } from './invocation-record.js';

/** How many deaths of Wisp an invocation's attempts may be found cut off by before it is given up. */
const POISON_PILL_CRASHES = 2;

/**
 * Turns a cut-off `record` into its next state, in place. It runs again (at-least-once), and
 * that attempt was not the function's failure, so it does not use up a retry. But an attempt
 * may itself be what killed Wisp (a fatal out-of-memory inside V8 takes the whole process, not
 * just a worker): the second time one is found cut off it is a poison pill, and fails
 * HOST_CRASHED rather than take the next start down too. A cancel asked for while it ran ends it.
 * `crashed` false: the attempt was stopped because its node lost touch with the store, which
 * counts toward no poison pill. Returns true when the record is now final.
 */
export function recoverCutOff(record: InvocationRecord, now: number, log: (message: string) => void, crashed = true): boolean {
  if (crashed) record.hostCrashes = (record.hostCrashes ?? 0) + 1;
  if (record.cancelRequested) {
    endCancelled(record, now);
    return true;
  }
  if ((record.hostCrashes ?? 0) >= POISON_PILL_CRASHES) {
    const error = new WispError(
      'HOST_CRASHED',
      `invocation ${record.id} of "${record.function}" was running each of the ${record.hostCrashes} times Wisp died; it is not run again, since it may be what killed it (for example a fatal out-of-memory from building a huge string)`,
    );
    finish(record, 'failed', now, { error: invocationError(error) });
    log(`invocation ${record.id}: failed HOST_CRASHED after ${record.hostCrashes} deaths of Wisp during its attempts`);
    return true;
  }
  record.status = 'retrying';
  record.runAt = now;
  record.maxAttempts += 1;
  return false;
}

export function cancelledError(record: InvocationRecord): ReturnType<typeof invocationError> {
  return invocationError(new WispError('INVOCATION_CANCELLED', `invocation ${record.id} was cancelled`));
}

/** Ends `record` as cancelled at `now`: a waiting one a cancel reaches, or a cut-off one asked to stop. */
export function endCancelled(record: InvocationRecord, now: number): void {
  finish(record, 'cancelled', now, { error: cancelledError(record) });
}
