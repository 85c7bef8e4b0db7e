// Method calls on instances: running one on the instance's thread, bounded by its function's
// timeoutMs, and recording a synchronous one (or a constructor) with its outcome and logs. Calls
// do not take the instance's mutex: the thread's mailbox orders them. What a call logs or throws
// is redacted of the function's secrets before anyone sees it.
import type { Clock } from '../common/clock.js';
import { redactError, redactLogs, type FunctionSecrets } from '../common/secret-redaction.js';
import { WispError } from '../errors.js';
import type { CallSummary } from '../invocations/call-summary.js';
import { callError, type FunctionLogFeed } from '../invocations/function-log-feed.js';
import type { LoggedInstanceOutcome } from '../runtime/protocol.js';
import { TaskFailure } from '../runtime/task-failure.js';
import type { InstanceRecord, LogEntry } from '../store/records.js';
import { fromCallFailure, fromThreadFailure } from './instance-errors.js';
import { runningThread, type LiveInstances } from './live-instances.js';

/** How a method call ended, with what it logged (redacted); a failed call is a report, not a throw. */
export type MethodReport = { ok: true; json: string; logs: LogEntry[]; owner?: Owner } | { ok: false; error: WispError; logs: LogEntry[] };

/** Which node answered a call, at which epoch of its ownership. */
export interface Owner {
  node: string;
  epoch: number;
}

export interface MethodCallOptions {
  /** Instances the caller is itself running inside (a ctx.instance() call from an instance). */
  chain?: string[];
  /** Numbers the call's log lines: the attempt of an asynchronous invocation. */
  attempt?: number;
  /** The invocation the call runs as, for those following the function's logs. */
  invocationId?: string;
}

export interface InstanceCallsOptions {
  /** The function's secrets, to redact from what its methods log and throw; undefined: none. */
  secrets: (fn: string) => FunctionSecrets | undefined;
  /** Where synchronous method calls and constructors are recorded (in memory, with their logs). */
  record?: ((call: CallSummary) => void) | undefined;
  /** Where those following a function's logs get its instances' lines. */
  logFeed?: FunctionLogFeed | undefined;
  clock: Clock;
}

/** The logs with the function's secrets redacted; as they are when it has none. */
export const redacted = (logs: LogEntry[], secrets: FunctionSecrets | undefined) => (secrets ? redactLogs(logs, secrets.redact) : logs);

export class InstanceCalls {
  readonly #o: InstanceCallsOptions;
  readonly #instances: LiveInstances;

  constructor(options: InstanceCallsOptions, instances: LiveInstances) {
    this.#o = options;
    this.#instances = instances;
  }

  /** Calls a method and reports how it went, with what it logged; never throws a WispError. */
  async run(id: string, method: string, args: unknown[], options: MethodCallOptions = {}): Promise<MethodReport> {
    try {
      return await this.#call(id, method, args, options);
    } catch (err) {
      if (err instanceof WispError) return { ok: false, error: err, logs: [] };
      throw err;
    }
  }

  /**
   * Follows a constructor's run, to record it under `invocationId` (none: it is not recorded) like
   * a call: `onLogs` takes what it wrote to console.* (redacted here), `done` how it ended.
   */
  constructorRun(fn: string, record: InstanceRecord, invocationId: string | undefined): { onLogs: (lines: LogEntry[]) => void; done: (error: WispError | null) => void } {
    const startedAt = this.#o.clock.now();
    let logs: LogEntry[] = [];
    return {
      onLogs: (lines) => {
        logs = redacted(lines, this.#o.secrets(fn));
      },
      done: (error) => {
        if (invocationId !== undefined) this.#record(invocationId, record, 'constructor', startedAt, error ? { ok: false, error, logs } : { ok: true, json: 'null', logs });
      },
    };
  }

  /** Records a synchronous call (one that ran on another node, too) under `invocationId`. */
  record(invocationId: string, record: InstanceRecord, method: string, startedAt: number, report: MethodReport): void {
    this.#record(invocationId, record, method, startedAt, report);
  }

  #record(invocationId: string, record: InstanceRecord, method: string, startedAt: number, report: MethodReport): void {
    this.#o.record?.({
      id: invocationId,
      function: record.function,
      version: record.version,
      mode: 'sync',
      input: null,
      inputBytes: 0,
      parentId: null,
      startedAt,
      finishedAt: this.#o.clock.now(),
      resultJson: report.ok ? report.json : null,
      error: report.ok ? null : report.error,
      logs: report.logs,
      instance: record.id,
      method,
    });
  }

  /** Hands what a method or socket handler logged (already redacted), and how it failed, to the function's followers. */
  publish(record: InstanceRecord, method: string, logs: LogEntry[], error: WispError | null, invocationId: string | null = null, attempt = 1): void {
    const feed = this.#o.logFeed;
    if (!feed?.wants(record.function)) return;
    feed.publish({ function: record.function, version: record.version, invocationId, attempt, instance: record.id, method, logs, error: callError(error) });
  }

  async #call(id: string, method: string, args: unknown[], { chain = [], attempt = 1, invocationId }: MethodCallOptions): Promise<MethodReport> {
    const live = this.#instances.get(id);
    if (chain.includes(id)) {
      throw new WispError('CALL_CYCLE', `instance ${id} is already waiting in this call chain (${[...chain, id].join(' → ')}); calling it would wait on itself`);
    }
    const thread = runningThread(live);
    let outcome: LoggedInstanceOutcome<string>;
    try {
      outcome = await thread.call(method, args, chain, live.timeoutMs, attempt);
    } catch (err) {
      throw err instanceof TaskFailure ? fromThreadFailure(err, id, `method ${method}`) : err;
    }
    // A method that logs or throws a secret must not show it (as for stateless calls).
    const secrets = this.#o.secrets(live.record.function);
    const logs = redacted(outcome.logs, secrets);
    if (!outcome.ok) {
      const error = fromCallFailure(secrets ? { ...outcome, error: redactError(outcome.error, secrets.redact) } : outcome, id, method);
      this.publish(live.record, method, logs, error, invocationId, attempt);
      return { ok: false, error, logs };
    }
    this.publish(live.record, method, logs, null, invocationId, attempt);
    return { ok: true, json: outcome.value, logs };
  }
}
