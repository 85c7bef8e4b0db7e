// Synchronous invocations: pick the version, hold a concurrency slot, run the task on the pool
// and turn every way it can end into a result or a catalogued error.
import { WispError, type SerializedError } from '../errors.js';
import type { Registry } from '../registry/registry.js';
import type { FailurePhase, InvocationMeta, Outcome, WireRequest, WireResponse } from '../runtime/protocol.js';
import type { StatelessPool } from '../runtime/stateless-pool.js';
import { TaskFailure } from '../runtime/task-failure.js';
import { userErrorExtension } from '../runtime/user-error.js';
import type { VersionRecord } from '../store/records.js';
import { ConcurrencyLimiter } from './concurrency-limiter.js';

export interface InvokeOptions {
  invocationId: string;
  version?: number;
}

/** What a raw-HTTP call produced: the function's own Response, or a JSON handler's value. */
export type HttpResult = { kind: 'response'; response: WireResponse } | { kind: 'json'; json: string };

export class Invoker {
  readonly #registry: Registry;
  readonly #pool: StatelessPool;
  readonly #limiter = new ConcurrencyLimiter();

  constructor(registry: Registry, pool: StatelessPool) {
    this.#registry = registry;
    this.#pool = pool;
  }

  /** Runs the JSON handler; resolves to the result as JSON text. */
  async invoke(name: string, input: unknown, options: InvokeOptions): Promise<string> {
    const version = this.#registry.resolve(name, options.version);
    if (!version.exports.handler) {
      const hint = version.exports.fetch ? `; it has a fetch handler: call it at /fn/${name}` : '';
      throw new WispError('NO_JSON_HANDLER', `function "${name}" version ${version.version} has no default function export${hint}`);
    }
    return this.#run(version, options.invocationId, (code, meta) => this.#pool.run({ kind: 'invoke', code, meta, input }, this.#runOptions(version)));
  }

  /**
   * Serves a raw HTTP request: a fetch handler gets the request itself; a JSON handler gets
   * `jsonInput()`, the body as its input (called only then, so the body is parsed only then).
   */
  async serveHttp(name: string, request: WireRequest, jsonInput: () => unknown, invocationId: string): Promise<HttpResult> {
    const version = this.#registry.resolve(name);
    if (version.exports.fetch) {
      const response = await this.#run(version, invocationId, (code, meta) =>
        this.#pool.run({ kind: 'fetch', code, meta, request }, this.#runOptions(version)),
      );
      return { kind: 'response', response };
    }
    return { kind: 'json', json: await this.invoke(name, jsonInput(), { invocationId, version: version.version }) };
  }

  #runOptions(version: VersionRecord): { memoryMb: number; timeoutMs: number } {
    return { memoryMb: version.config.memoryMb, timeoutMs: version.config.timeoutMs };
  }

  async #run<T>(
    version: VersionRecord,
    invocationId: string,
    task: (code: ReturnType<Registry['code']>, meta: InvocationMeta) => Promise<Outcome<T>>,
  ): Promise<T> {
    const release = this.#limiter.acquire(version.name, version.config.concurrency);
    if (!release) {
      throw new WispError('CONCURRENCY_LIMIT', `function "${version.name}" is already running ${version.config.concurrency} calls; retry later`);
    }
    const meta: InvocationMeta = {
      invocationId,
      function: version.name,
      version: version.version,
      attempt: 1,
      timeoutMs: version.config.timeoutMs,
    };
    let outcome: Outcome<T>;
    try {
      outcome = await task(this.#registry.code(version), meta);
    } catch (err) {
      throw err instanceof TaskFailure ? fromTaskFailure(err, version) : err;
    } finally {
      release();
    }
    if (!outcome.ok) throw fromFailedOutcome(outcome.phase, outcome.error, version);
    return outcome.value;
  }

  get inFlight(): number {
    return this.#limiter.total;
  }
}

function fromTaskFailure(failure: TaskFailure, version: VersionRecord): WispError {
  const fn = `function "${version.name}"`;
  switch (failure.reason) {
    case 'timeout':
      return new WispError('FUNCTION_TIMEOUT', `${fn} ran past its ${version.config.timeoutMs} ms timeout and was stopped`);
    case 'crashed':
      return new WispError('FUNCTION_CRASHED', `${fn} crashed its worker: ${failure.message}`);
    default:
      return new WispError('SERVER_BUSY', `${fn} cannot run now: ${failure.message}`, { retryAfterSeconds: 1 });
  }
}

function fromFailedOutcome(phase: FailurePhase, error: SerializedError, version: VersionRecord): WispError {
  if (error.code === 'RESULT_TOO_LARGE') return new WispError('RESULT_TOO_LARGE', error.message);
  const what = phase === 'load' ? 'failed to load' : phase === 'result' ? 'returned a result that cannot be sent' : 'threw';
  return new WispError('FUNCTION_ERROR', `function "${version.name}" ${what}: ${error.name}: ${error.message}`, userErrorExtension(error));
}
