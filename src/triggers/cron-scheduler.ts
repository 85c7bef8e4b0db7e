// Runs cron triggers: at each scheduled time the trigger's function is submitted as an
// asynchronous invocation whose idempotency key is that time, so a time is never run twice, not
// even across a crash. A run is skipped while the trigger's previous run is unfinished (unless
// overlap is allowed). At start, times missed while Wisp was down are run once ("once") or not
// at all ("skip"), by the trigger's `missed` setting.
import { Cron } from 'croner';
import type { Clock } from '../common/clock.js';
import { WakeTimer } from '../common/wake-timer.js';
import { WispError } from '../errors.js';
import { isFinalStatus } from '../invocations/invocation-record.js';
import type { Invocations } from '../invocations/invocations.js';
import type { CronTriggerRecord } from '../store/records.js';
import type { TriggerStore } from '../store/trigger-store.js';

/** Timers are re-armed at least this often, so a far-off time never overflows setTimeout. */
const MAX_SLEEP_MS = 3_600_000;

type Schedule = Pick<CronTriggerRecord, 'schedule' | 'timezone'>;

const job = (trigger: Schedule): Cron => new Cron(trigger.schedule, { paused: true, ...(trigger.timezone ? { timezone: trigger.timezone } : {}) });

/** The first time `schedule` names strictly after `after` (epoch ms), or null if none. */
export function nextTime(trigger: Schedule, after: number): number | null {
  return job(trigger).nextRun(new Date(after))?.getTime() ?? null;
}

/** The last time `schedule` names at or before `upTo` (epoch ms), or null if none. */
function latestTime(trigger: Schedule, upTo: number): number | null {
  return job(trigger).previousRuns(1, new Date(upTo + 1))[0]?.getTime() ?? null;
}

/** Checks a schedule and zone the way the scheduler will read them; throws INVALID_REQUEST. */
export function checkSchedule(trigger: Schedule, now: number): void {
  let next: number | null;
  try {
    next = nextTime(trigger, now);
  } catch (err) {
    throw new WispError('INVALID_REQUEST', `the schedule or timezone cannot be used: ${(err as Error).message}`);
  }
  if (next === null) throw new WispError('INVALID_REQUEST', `the schedule "${trigger.schedule}" names no time in the future`);
}

interface Armed {
  trigger: CronTriggerRecord;
  next: number | null;
  timer: WakeTimer;
  /** A run is being submitted: to the overlap rule it counts as unfinished. */
  submitting: boolean;
}

export interface CronSchedulerOptions {
  store: TriggerStore;
  invocations: Invocations;
  clock: Clock;
  log: (message: string) => void;
}

export class CronScheduler {
  readonly #o: CronSchedulerOptions;
  readonly #armed = new Map<string, Armed>();
  #closed = false;

  constructor(options: CronSchedulerOptions) {
    this.#o = options;
  }

  /** At start: arms every stored cron trigger, first dealing with the times it missed. */
  recover(triggers: CronTriggerRecord[]): void {
    const now = this.#o.clock.now();
    for (const trigger of triggers) {
      const since = trigger.lastScheduledAt ?? trigger.createdAt;
      // The latest scheduled time that passed while Wisp was not running, found directly: walking
      // every missed time of a per-second schedule after a day down would take seconds.
      const latest = latestTime(trigger, now);
      const missed = latest !== null && latest > since ? latest : null;
      this.add(trigger);
      if (missed !== null) {
        if (trigger.missed === 'once') void this.#fire(trigger.id, missed);
        else this.#handled(trigger, missed, trigger.lastInvocationId);
      }
    }
  }

  add(trigger: CronTriggerRecord): void {
    const armed: Armed = { trigger, next: null, timer: new WakeTimer(this.#o.clock, () => this.#wake(trigger.id)), submitting: false };
    this.#armed.set(trigger.id, armed);
    this.#arm(armed, this.#o.clock.now());
  }

  remove(id: string): void {
    this.#armed.get(id)?.timer.cancel();
    this.#armed.delete(id);
  }

  nextRunAt(id: string): number | null {
    return this.#armed.get(id)?.next ?? null;
  }

  close(): void {
    this.#closed = true;
    for (const armed of this.#armed.values()) armed.timer.cancel();
  }

  #arm(armed: Armed, now: number): void {
    armed.next = nextTime(armed.trigger, Math.max(now, armed.trigger.lastScheduledAt ?? 0));
    if (armed.next !== null) armed.timer.wakeAt(Math.min(armed.next, now + MAX_SLEEP_MS), now);
  }

  #wake(id: string): void {
    const armed = this.#armed.get(id);
    if (!armed || this.#closed) return;
    const now = this.#o.clock.now();
    if (armed.next !== null && armed.next <= now) void this.#fire(id, armed.next);
    else this.#arm(armed, now);
  }

  /** Runs the trigger for scheduled time `at`, unless its previous run is still going. */
  async #fire(id: string, at: number): Promise<void> {
    const armed = this.#armed.get(id);
    if (!armed) return;
    const { trigger } = armed;
    this.#handled(trigger, at, trigger.lastInvocationId);
    this.#arm(armed, this.#o.clock.now());
    const skipped = () =>
      this.#o.log(`cron trigger ${id}: the run for ${new Date(at).toISOString()} is skipped; the previous run ${trigger.lastInvocationId} is unfinished`);
    if (trigger.overlap === 'skip' && armed.submitting) return skipped();
    const scheduledAt = new Date(at).toISOString();
    const previous = trigger.lastInvocationId;
    armed.submitting = true;
    try {
      if (trigger.overlap === 'skip' && previous !== null && (await this.#unfinished(previous))) return skipped();
      const { invocation } = await this.#o.invocations.submit({
        function: trigger.function,
        input: { source: 'cron', id: scheduledAt, type: 'cron', schedule: trigger.schedule, scheduledAt, payload: trigger.input },
        triggerId: trigger.id,
        idempotencyKey: scheduledAt,
      });
      this.#handled(trigger, at, invocation.id);
    } catch (err) {
      this.#o.log(`cron trigger ${id}: the run for ${scheduledAt} could not be submitted: ${(err as Error).message}`);
    } finally {
      armed.submitting = false;
    }
  }

  async #unfinished(invocationId: string): Promise<boolean> {
    try {
      return !isFinalStatus((await this.#o.invocations.get(invocationId)).status);
    } catch {
      return false;
    }
  }

  #handled(trigger: CronTriggerRecord, at: number, invocationId: string | null): void {
    trigger.lastScheduledAt = Math.max(at, trigger.lastScheduledAt ?? 0);
    trigger.lastInvocationId = invocationId;
    if (!this.#armed.has(trigger.id)) return;
    // The run itself is keyed by its scheduled time (the idempotency key), so a record that does
    // not reach the store costs at most a repeat after a restart, which that key absorbs.
    this.#o.store.recordScheduled(trigger.id, at, invocationId).catch((err: unknown) => {
      this.#o.log(`cron trigger ${trigger.id}: cannot record the run for ${new Date(at).toISOString()}: ${String(err)}`);
    });
  }
}
