// The gateway's side of one instance thread. Commands are posted at once (the thread keeps them in
// its mailbox and runs them in order), so the gateway never waits a round trip between calls; the
// deadline of a command starts when the one before it is answered, which is when the thread
// starts it. A command past its deadline has the thread terminated: it fails with `timeout`,
// those behind it with `unavailable`, and onExit listeners learn the thread is gone.
import { Worker } from 'node:worker_threads';
import { fileURLToPath } from 'node:url';
import type { InstanceCommand, InstanceEvent, InstanceOutcome, InstanceStart, LoggedInstanceOutcome, RouteGatewayRequest, SocketAction, SocketDelivery } from './protocol.js';
import { TaskFailure } from './task-failure.js';

// The bundle of instance-entry.ts made by scripts/bundle-threads.mjs at build time.
const INSTANCE_FILE = fileURLToPath(new URL('./instance-entry.cjs', import.meta.url));

export interface InstanceInitOptions {
  startTimeoutMs: number;
  /** Serves ctx.instance(id).call() made inside this instance. */
  routeCall: RouteGatewayRequest;
  /** What the instance does to its clients' WebSockets (send, close). */
  onSocketAction?: (action: SocketAction) => void;
}

/** Why a thread went away without being asked to: it crashed, or it was stopped at a deadline. */
export interface ThreadExit {
  reason: 'crashed' | 'timeout';
  detail: string;
}

interface Pending {
  seq: number;
  timeoutMs: number;
  what: string;
  resolve: (outcome: InstanceOutcome<never>) => void;
  reject: (err: TaskFailure) => void;
}

export class InstanceThread {
  readonly #worker: Worker;
  readonly #pending: Pending[] = [];
  readonly #exitListeners: ((exit: ThreadExit) => void)[] = [];
  #timer: NodeJS.Timeout | undefined;
  #nextSeq = 0;
  #gone = false;
  #lastError: Error | undefined;
  #routeCall: InstanceInitOptions['routeCall'] | undefined;
  #onSocketAction: InstanceInitOptions['onSocketAction'];
  #onReady: ((event: Extract<InstanceEvent, { op: 'ready' }>) => void) | undefined;
  #acceptsSockets = false;
  /** Commands posted in this turn, sent as one message (see #post). */
  #outbox: InstanceCommand[] = [];
  /** Settles once the thread runs JavaScript (or is gone): when booting another costs no more than its load. */
  readonly booted: Promise<void>;
  /** Starts a thread, its heap capped at memoryMb, that waits for init(); booting is most of an instance's start time. */
  constructor(memoryMb: number) {
    this.#worker = new Worker(INSTANCE_FILE, {
      resourceLimits: { maxOldGenerationSizeMb: memoryMb },
      // As in the pool: no flags and none of the gateway's environment.
      execArgv: [],
      env: {},
    });
    this.booted = new Promise((resolve) => {
      this.#worker.once('online', resolve);
      this.#worker.once('exit', resolve);
    });
    // The thread sends what it did in one turn as one message: an array of events (instance-entry.ts).
    this.#worker.on('message', (message: InstanceEvent | InstanceEvent[]) => {
      if (!Array.isArray(message)) return this.#receive(message);
      for (const event of message) this.#receive(event);
    });
    this.#worker.on('error', (err) => {
      this.#lastError = err;
    });
    this.#worker.on('exit', (code) => {
      if (this.#gone) return;
      const err = this.#lastError;
      const detail = (err as { code?: string } | undefined)?.code === 'ERR_WORKER_OUT_OF_MEMORY' ? 'out of memory' : err ? `${err.name}: ${err.message}` : `its thread exited with code ${code}`;
      this.#die({ reason: 'crashed', detail });
    });
  }

  /**
   * Constructs (or restores) the instance in this thread; a failed constructor is an outcome. The
   * checkpoint's buffer is moved to the thread, not copied: the caller must not use it after.
   */
  init(start: InstanceStart, options: InstanceInitOptions): Promise<LoggedInstanceOutcome<InstanceThread>> {
    if (this.#gone) return Promise.reject(new TaskFailure('crashed', 'the thread died before the instance was made'));
    this.#routeCall = options.routeCall;
    this.#onSocketAction = options.onSocketAction;
    const timeoutMs = options.startTimeoutMs;
    const { checkpoint } = start;
    const whole = checkpoint !== null && checkpoint.buffer instanceof ArrayBuffer && checkpoint.byteOffset === 0 && checkpoint.byteLength === checkpoint.buffer.byteLength;
    this.#worker.postMessage({ op: 'init', start } satisfies InstanceCommand, whole ? [checkpoint.buffer as ArrayBuffer] : []);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#die({ reason: 'timeout', detail: `it did not start within ${timeoutMs} ms` });
      }, timeoutMs);
      const onExit = (exit: ThreadExit) => {
        clearTimeout(timer);
        reject(new TaskFailure(exit.reason, exit.detail));
      };
      this.#exitListeners.push(onExit);
      this.#onReady = (event) => {
        this.#onReady = undefined;
        clearTimeout(timer);
        this.#exitListeners.splice(this.#exitListeners.indexOf(onExit), 1);
        if (event.outcome.ok) {
          this.#acceptsSockets = event.acceptsSockets;
          return resolve({ ok: true, value: this, logs: event.outcome.logs });
        }
        void this.terminate();
        resolve(event.outcome as LoggedInstanceOutcome<never>);
      };
    });
  }

  /** `attempt` numbers the lines it logs (an asynchronous call's attempt; 1 otherwise). */
  call(method: string, args: unknown[], chain: string[], timeoutMs: number, attempt = 1): Promise<LoggedInstanceOutcome<string>> {
    // A 'result' event's outcome carries the call's logs (see instance-entry.ts).
    return this.#send((seq) => ({ op: 'call', seq, method, args, chain, attempt }), timeoutMs, `method ${method}`) as Promise<LoggedInstanceOutcome<string>>;
  }

  /** Delivers a client's socket event to the instance's handler, in order with its calls. */
  socket(event: SocketDelivery, timeoutMs: number): Promise<LoggedInstanceOutcome<null>> {
    return this.#send((seq) => ({ op: 'socket', seq, event }), timeoutMs, `webSocket${event.kind[0]!.toUpperCase()}${event.kind.slice(1)}`) as Promise<LoggedInstanceOutcome<null>>;
  }

  /** Whether the instance's class takes WebSockets: it has a webSocketMessage method. */
  get acceptsSockets(): boolean {
    return this.#acceptsSockets;
  }

  checkpoint(timeoutMs: number): Promise<InstanceOutcome<Uint8Array>> {
    return this.#send((seq) => ({ op: 'checkpoint', seq }), timeoutMs, 'checkpoint');
  }

  /** Called once if the thread goes away on its own (crash, deadline); not after terminate(). */
  onExit(listener: (exit: ThreadExit) => void): void {
    this.#exitListeners.push(listener);
  }

  get alive(): boolean {
    return !this.#gone;
  }

  /** Whether a call or checkpoint is running or waiting in the thread's mailbox. */
  get busy(): boolean {
    return this.#pending.length > 0;
  }

  /** Stops the thread on purpose; pending commands fail `unavailable`. Idempotent. */
  async terminate(): Promise<void> {
    if (!this.#gone) {
      this.#gone = true;
      this.#failPending(undefined);
    }
    await this.#worker.terminate();
  }

  #send<T>(command: (seq: number) => InstanceCommand, timeoutMs: number, what: string): Promise<InstanceOutcome<T>> {
    if (this.#gone) return Promise.reject(new TaskFailure('unavailable', 'the instance thread is gone'));
    const seq = ++this.#nextSeq;
    return new Promise<InstanceOutcome<T>>((resolve, reject) => {
      this.#pending.push({ seq, timeoutMs, what, resolve: resolve as Pending['resolve'], reject });
      this.#post(command(seq));
      if (this.#pending.length === 1) this.#arm();
    });
  }

  #receive(event: InstanceEvent): void {
    if (event.op === 'call-instance') {
      void this.#routeCall!(event.request).then((outcome) => this.#post({ op: 'reply', seq: event.request.seq, outcome }));
    } else if (event.op === 'socket-send' || event.op === 'socket-close') {
      this.#onSocketAction?.(event);
    } else if (event.op === 'ready') {
      this.#onReady?.(event);
    } else {
      this.#settle(event.outcome);
    }
  }

  /**
   * Commands posted in one turn (a client's frames that came in one read, calls that arrived
   * together) cross to the thread as one message: a message costs far more than its size.
   */
  #post(command: InstanceCommand): void {
    if (this.#gone) return;
    if (this.#outbox.push(command) === 1) queueMicrotask(() => this.#flush());
  }

  #flush(): void {
    const batch = this.#outbox;
    this.#outbox = [];
    if (this.#gone || batch.length === 0) return;
    this.#worker.postMessage(batch.length === 1 ? batch[0] : batch);
  }

  #settle(outcome: InstanceOutcome<unknown>): void {
    const head = this.#pending.shift();
    clearTimeout(this.#timer);
    if (this.#pending.length > 0) this.#arm();
    head?.resolve(outcome as InstanceOutcome<never>);
  }

  #arm(): void {
    const head = this.#pending[0]!;
    this.#timer = setTimeout(() => {
      this.#die({ reason: 'timeout', detail: `its ${head.what} ran past ${head.timeoutMs} ms` });
    }, head.timeoutMs);
  }

  #die(exit: ThreadExit): void {
    if (this.#gone) return;
    this.#gone = true;
    void this.#worker.terminate();
    this.#failPending(exit);
    for (const listener of this.#exitListeners.splice(0)) listener(exit);
  }

  /** The running command fails with the thread's fate; the ones queued behind it never ran. */
  #failPending(exit: ThreadExit | undefined): void {
    clearTimeout(this.#timer);
    const [head, ...rest] = this.#pending.splice(0);
    if (head) head.reject(exit ? new TaskFailure(exit.reason, exit.detail) : new TaskFailure('unavailable', 'the instance was stopped'));
    for (const queued of rest) queued.reject(new TaskFailure('unavailable', `the instance thread is gone${exit ? ` (${exit.detail})` : ''}`));
  }
}
