// The supervisor: the gateway runs as its child process, and is started again within a second
// if it dies. Most faults of user code are contained in worker threads, but not all: V8 aborts
// the whole process on a fatal out-of-memory inside a runtime or API allocation (flattening a
// huge string, JSON.stringify near a worker's heap cap), whichever thread it happens on. Nothing
// acknowledged is lost across a restart (the store is durable); async attempts that were running
// run again, and one found cut off twice fails HOST_CRASHED (invocations/dispatcher.ts).
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** What the gateway tells the supervisor once it listens. */
export interface GatewayReady {
  kind: 'ready';
  port: number;
}

export interface SupervisorOptions {
  /** The environment the gateway starts with; the supervisor pins WISP_PORT after the first start. */
  env: NodeJS.ProcessEnv;
  /** A line for the operator (JSON, like the gateway's own log). */
  log: (level: 'info' | 'error', message: string) => void;
}

const GATEWAY_FILE = fileURLToPath(new URL('./gateway-main.js', import.meta.url));

/** Restarts closer together than this count as a crash loop, and back off. */
const STABLE_MS = 10_000;
const MAX_BACKOFF_MS = 5_000;

export class Supervisor {
  readonly #o: SupervisorOptions;
  #child: ChildProcess | undefined;
  /** The port the first gateway bound (WISP_PORT=0 picks one): later ones take the same. */
  #port: number | undefined;
  #stopping = false;
  #restarts = 0;
  #startedAt = 0;
  #onExit: ((code: number) => void) | undefined;

  constructor(options: SupervisorOptions) {
    this.#o = options;
  }

  /** Runs the gateway until it stops on purpose; resolves with the exit code to end with. */
  run(): Promise<number> {
    return new Promise((resolve) => {
      this.#onExit = resolve;
      this.#start();
    });
  }

  /** Passes a stop signal on to the gateway, which shuts down gracefully; no restart after. */
  stop(signal: NodeJS.Signals): void {
    this.#stopping = true;
    if (this.#child && this.#child.exitCode === null && this.#child.signalCode === null) this.#child.kill(signal);
    else this.#onExit?.(0);
  }

  #start(): void {
    this.#startedAt = Date.now();
    const env = this.#port === undefined ? this.#o.env : { ...this.#o.env, WISP_PORT: String(this.#port) };
    const child = fork(GATEWAY_FILE, [], { env, stdio: 'inherit', execArgv: process.execArgv });
    this.#child = child;
    child.on('message', (message: GatewayReady) => {
      if (message?.kind !== 'ready') return;
      this.#port = message.port;
    });
    child.on('exit', (code, signal) => {
      if (this.#stopping || code === 0) return this.#onExit?.(code ?? 1);
      const how = signal ? `signal ${signal}` : `exit code ${code}`;
      // A first gateway that never got to listen (bad config, port taken) would only fail again.
      // A later one may die before it listens for the same reason its predecessor died (it
      // recovers interrupted invocations first): that is a crash to back off from, not a config.
      if (this.#port === undefined) {
        this.#o.log('error', `the gateway stopped before it was ready (${how}); not restarting it`);
        return this.#onExit?.(code ?? 1);
      }
      this.#restarts = Date.now() - this.#startedAt > STABLE_MS ? 0 : this.#restarts + 1;
      const delayMs = this.#restarts === 0 ? 0 : Math.min(MAX_BACKOFF_MS, 100 * 2 ** (this.#restarts - 1));
      this.#o.log('error', `the gateway died (${how}); restarting it${delayMs ? ` in ${delayMs} ms` : ''}`);
      setTimeout(() => {
        if (!this.#stopping) this.#start();
        else this.#onExit?.(1);
      }, delayMs);
    });
  }
}
