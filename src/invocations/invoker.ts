// Runs functions on the pool: picks the version, holds a concurrency slot, runs the task, and turns
// every way it can end into a result or a catalogued error. Synchronous and nested calls are
// recorded here (in memory); asynchronous ones by the dispatcher, which calls call().
import type { Clock } from '../common/clock.js';
import { timeOrderedId } from '../common/time-ordered-id.js';
import { WispError, type SerializedError } from '../errors.js';
import type { Registry } from '../registry/registry.js';
import type { FailurePhase, InstanceOutcome, InvocationMeta, LoggedOutcome, NestedInvokeRequest, WireRequest, WireResponse } from '../runtime/protocol.js';
import type { RunOptions, StatelessPool } from '../runtime/stateless-pool.js';
import { TaskFailure } from '../runtime/task-failure.js';
import { userErrorExtension } from '../runtime/user-error.js';
import type { LogEntry, VersionRecord } from '../store/records.js';
import { LocalSlots, type ConcurrencySlots, type Release } from './concurrency-slots.js';
import { redactError, redactLogs, type FunctionSecrets, type Redact } from '../common/secret-redaction.js';
import type { CallSummary } from './call-summary.js';
import { callError, type FunctionLogFeed } from './function-log-feed.js';
import { concurrencyKey } from './concurrency-key.js';
import { SyncSingleFlight } from './sync-single-flight.js';

export interface CallOptions {
  invocationId: string;
  version?: number;
  /** 1 unless an asynchronous invocation is being retried. */
  attempt?: number;
  /** 0 from outside; a ctx.invoke() child is one deeper. */
  depth?: number;
  /** Whether the call tree is kept durably (it began as an asynchronous invocation). */
  durable?: boolean;
  signal?: AbortSignal;
  /** A concurrency slot already taken for this call (reserve()); given back when it ends. */
  slot?: Release;
  /**
   * Told the id of an equal synchronous call already running when the function's
   * concurrencyControl (mode reuse) answers this one with that call's result instead.
   */
  joined?: (invocationId: string) => void;
}

/** How a call ended, with what it logged; never thrown, so callers can record either way. */
export type CallReport =
  | { ok: true; version: VersionRecord; json: string; logs: LogEntry[] }
  | { ok: false; version: VersionRecord | null; error: WispError; retriable: boolean; logs: LogEntry[] };

/** What a raw-HTTP call produced: the function's own Response, or a JSON handler's value. */
export type HttpResult = { kind: 'response'; response: WireResponse } | { kind: 'json'; json: string };

/**
 * Where finished synchronous and nested calls are recorded (invocations/invocations.ts);
 * `durable` says whether the call tree began as an asynchronous invocation.
 */
export type CallRecorder = (call: CallSummary, durable: boolean) => void;

export interface InvokerOptions {
  registry: Registry;
  pool: StatelessPool;
  /** How deep ctx.invoke() may nest. */
  maxDepth: number;
  record: CallRecorder;
  /** A function's secrets (ctx.env) and their redactor; undefined when it has none. */
  secrets: (fn: string) => FunctionSecrets | undefined;
  clock: Clock;
  /** Where calls take their concurrency slots: in memory unless a cluster shares them. */
  slots?: ConcurrencySlots;
  /** Where the lines of each call go for those who follow a function's logs live. */
  logFeed?: FunctionLogFeed;
}

export class Invoker {
  readonly #o: InvokerOptions;
  readonly #slots: ConcurrencySlots;
  readonly #flights = new SyncSingleFlight();

  constructor(options: InvokerOptions) {
    this.#o = options;
    this.#slots = options.slots ?? new LocalSlots();
  }

  /**
   * A synchronous invocation: resolves to the result as JSON text, or throws its error. Under
   * the function's concurrencyControl an equal call running already answers it, or refuses it.
   */
  invoke(name: string, input: unknown, options: CallOptions): Promise<string> {
    // Looked up once here, for its concurrencyControl and for the call itself.
    const found = this.#o.registry.find(name, options.version);
    const control = found?.config.concurrencyControl;
    const key = concurrencyKey(name, control, input);
    if (key === undefined) return this.#invokeNow(name, input, options, found);
    return this.#flights.run(name, key, control!, options.invocationId, () => this.#invokeNow(name, input, options, found), options.joined);
  }

  async #invokeNow(name: string, input: unknown, options: CallOptions, found: VersionRecord | undefined): Promise<string> {
    const startedAt = this.#o.clock.now();
    const report = await this.call(name, input, options, found);
    this.#record('sync', name, null, 0, options, startedAt, report, null);
    if (!report.ok) throw report.error;
    return report.json;
  }

  /** Runs the JSON handler and reports how it went; the caller records it. `found`: the version, if the caller looked it up already. */
  async call(name: string, input: unknown, options: CallOptions, found?: VersionRecord): Promise<CallReport> {
    let version: VersionRecord;
    try {
      version = found ?? this.#o.registry.find(name, options.version) ?? (await this.#o.registry.resolveFresh(name, options.version));
      if (!version.exports.handler) {
        const hint = version.exports.fetch ? `; it has a fetch handler: call it at /fn/${name}` : '';
        throw new WispError('NO_JSON_HANDLER', `function "${name}" version ${version.version} has no default function export${hint}`);
      }
    } catch (err) {
      options.slot?.();
      return { ok: false, version: null, error: err as WispError, retriable: false, logs: [] };
    }
    return this.#run(version, options, (code, meta) => this.#o.pool.run({ kind: 'invoke', code, meta, input }, this.#runOptions(version, options)));
  }

  /**
   * Serves ctx.invoke(name, input) from a running function: the child runs one tier deeper (see
   * stateless-pool.ts), is recorded with its parent, and its outcome goes back to the caller.
   */
  async nested(request: NestedInvokeRequest): Promise<InstanceOutcome<string>> {
    const { parent } = request;
    const depth = parent.depth + 1;
    const startedAt = this.#o.clock.now();
    const options: CallOptions = { invocationId: timeOrderedId(), depth, durable: parent.durable };
    const report: CallReport =
      depth > this.#o.maxDepth
        ? { ok: false, version: null, error: new WispError('NESTING_TOO_DEEP', `ctx.invoke() calls nest at most ${this.#o.maxDepth} deep; "${parent.function}" at depth ${parent.depth} called "${request.name}"`), retriable: false, logs: [] }
        : await this.call(request.name, request.input, options);
    this.#record('nested', request.name, request.input, request.inputBytes ?? 0, options, startedAt, report, parent.invocationId);
    if (report.ok) return { ok: true, value: report.json };
    return { ok: false, phase: 'handler', error: { name: 'WispError', code: report.error.code, message: report.error.message } };
  }

  #record(mode: CallSummary['mode'], name: string, input: unknown, inputBytes: number, options: CallOptions, startedAt: number, report: CallReport, parentId: string | null): void {
    // One flat object on the hot path; the full record is built only if someone reads it.
    this.#o.record(
      {
        id: options.invocationId,
        function: name,
        version: report.version?.version ?? 0,
        mode,
        input,
        inputBytes,
        parentId,
        startedAt,
        finishedAt: this.#o.clock.now(),
        resultJson: report.ok ? report.json : null,
        error: report.ok ? null : report.error,
        logs: report.logs,
      },
      options.durable ?? false,
    );
  }

  /**
   * Serves a raw HTTP request: a fetch handler gets the request itself; a JSON handler gets
   * `jsonInput()`, the body as its input (called only then, so the body is parsed only then).
   */
  async serveHttp(name: string, request: WireRequest, jsonInput: () => unknown, invocationId: string): Promise<HttpResult> {
    const version = this.#o.registry.resolve(name);
    if (version.exports.fetch) {
      const startedAt = this.#o.clock.now();
      const options = { invocationId };
      const report = await this.#run(version, options, (code, meta) => this.#o.pool.run({ kind: 'fetch', code, meta, request }, this.#runOptions(version, options)));
      const recorded: CallReport = report.ok ? { ...report, json: 'null' } : report;
      this.#record('sync', name, null, 0, options, startedAt, recorded, null);
      if (!report.ok) throw report.error;
      return { kind: 'response', response: report.json };
    }
    return { kind: 'json', json: await this.invoke(name, jsonInput(), { invocationId, version: version.version }) };
  }

  #runOptions(version: VersionRecord, options: CallOptions): RunOptions {
    return {
      memoryMb: version.config.memoryMb,
      timeoutMs: version.config.timeoutMs,
      depth: options.depth ?? 0,
      ...(options.signal ? { signal: options.signal } : {}),
    };
  }

  async #run<T>(
    version: VersionRecord,
    options: CallOptions,
    task: (code: ReturnType<Registry['code']>, meta: InvocationMeta) => Promise<LoggedOutcome<T>>,
  ): Promise<RunReport<T>> {
    let release = options.slot;
    if (!release) {
      const taken = this.#slots.take(version.name, version.config.concurrency, 1);
      // Asked of the other nodes only in a cluster: alone, the hot path does not await.
      release = (Array.isArray(taken) ? taken : await taken)[0];
    }
    if (!release) {
      const error = new WispError('CONCURRENCY_LIMIT', `function "${version.name}" is already running ${version.config.concurrency} calls; retry later`);
      return { ok: false, version, error, retriable: true, logs: [] };
    }
    const meta: InvocationMeta = {
      invocationId: options.invocationId,
      function: version.name,
      version: version.version,
      attempt: options.attempt ?? 1,
      timeoutMs: version.config.timeoutMs,
      depth: options.depth ?? 0,
      durable: options.durable ?? false,
    };
    const secrets = this.#o.secrets(version.name);
    if (secrets) meta.env = secrets.values;
    let outcome: LoggedOutcome<T>;
    try {
      outcome = await task(this.#o.registry.code(version), meta);
    } catch (err) {
      if (!(err instanceof TaskFailure)) throw err;
      const failure = secrets ? new TaskFailure(err.reason, secrets.redact(err.message)) : err;
      return { ok: false, version, error: fromTaskFailure(failure, version), retriable: err.reason !== 'cancelled', logs: [] };
    } finally {
      release();
    }
    // Most functions have no secrets and skip this.
    if (secrets) outcome = redactOutcome(outcome, secrets.redact);
    if (outcome.ok) {
      this.#feed(meta, outcome.logs, null);
      return { ok: true, version, json: outcome.value, logs: outcome.logs };
    }
    const error = fromFailedOutcome(outcome.phase, outcome.error, version);
    this.#feed(meta, outcome.logs, error);
    return { ok: false, version, error, retriable: outcome.error.retriable !== false && outcome.phase !== 'result', logs: outcome.logs };
  }

  /** Hands a call's lines (and its error, with the function's own stack) to those following its function, if anyone is. */
  #feed(meta: InvocationMeta, logs: LogEntry[], error: WispError | null): void {
    const feed = this.#o.logFeed;
    if (!feed?.wants(meta.function)) return;
    feed.publish({ function: meta.function, version: meta.version, invocationId: meta.invocationId, attempt: meta.attempt, logs, error: callError(error) });
  }

  /**
   * Whether function `name` may have a free concurrency slot, beyond `reserved` spoken for: this
   * node's count, without asking the cluster's (reserve() does).
   */
  hasCapacity(version: VersionRecord, reserved = 0): boolean {
    return this.#slots.count(version.name) + reserved < version.config.concurrency;
  }

  /** Takes up to `n` concurrency slots of the version's function, for calls made later with `slot`. */
  async reserve(version: VersionRecord, n: number): Promise<Release[]> {
    return this.#slots.take(version.name, version.config.concurrency, n);
  }

  get inFlight(): number {
    return this.#slots.total;
  }
}

/** A report whose value is whatever the task produced (JSON text, or a wire response). */
type RunReport<T> = { ok: true; version: VersionRecord; json: T; logs: LogEntry[] } | Extract<CallReport, { ok: false }>;

function redactOutcome<T>(outcome: LoggedOutcome<T>, redact: Redact): LoggedOutcome<T> {
  const logs = redactLogs(outcome.logs, redact);
  return outcome.ok ? { ...outcome, logs } : { ...outcome, error: redactError(outcome.error, redact), logs };
}

function fromTaskFailure(failure: TaskFailure, version: VersionRecord): WispError {
  const fn = `function "${version.name}"`;
  switch (failure.reason) {
    case 'timeout':
      return new WispError('FUNCTION_TIMEOUT', `${fn} ran past its ${version.config.timeoutMs} ms timeout and was stopped`);
    case 'crashed':
      return new WispError('FUNCTION_CRASHED', `${fn} crashed its worker: ${failure.message}`);
    case 'cancelled':
      return new WispError('INVOCATION_CANCELLED', `${fn} was cancelled`);
    default:
      return new WispError('SERVER_BUSY', `${fn} cannot run now: ${failure.message}`, { retryAfterSeconds: 1 });
  }
}

function fromFailedOutcome(phase: FailurePhase, error: SerializedError, version: VersionRecord): WispError {
  if (error.code === 'RESULT_TOO_LARGE') return new WispError('RESULT_TOO_LARGE', error.message);
  if (phase === 'memory') return new WispError('FUNCTION_CRASHED', `function "${version.name}" crashed its worker: ${error.message}`);
  // As in plain Node, an error no await catches ends the thread; only the call that raised it fails.
  if (phase === 'uncaught') return new WispError('FUNCTION_CRASHED', `function "${version.name}" crashed its worker with an error no await caught (thrown from a callback, or a promise rejection left unhandled): ${error.name}: ${error.message}`, userErrorExtension(error));
  const what = phase === 'load' ? 'failed to load' : phase === 'result' ? 'returned a result that cannot be sent' : 'threw';
  return new WispError('FUNCTION_ERROR', `function "${version.name}" ${what}: ${error.name}: ${error.message}`, userErrorExtension(error));
}
