// Stateful instances: create (get-or-create by name), call, suspend, resume, delete, restart on
// crash, and their life across a restart of Wisp: the directory of instances and their states.
// Starting a thread and checkpointing one is instance-launcher.ts. Each instance holds a
// reservation of the node's resources while its thread runs. Mutations of one instance run under its own mutex; calls do
// not take it (the instance thread's mailbox orders them). What a method or constructor writes to
// console.* comes back with its outcome, redacted, and is kept with the call's invocation record.
// Closing is bounded: past its deadline a busy instance's thread is stopped (see closeBy).
import { KeyedMutex } from '../common/keyed-mutex.js';
import { WispError } from '../errors.js';
import type { InstanceThread } from '../runtime/instance-thread.js';
import type { LoggedInstanceOutcome, RouteGatewayRequest } from '../runtime/protocol.js';
import { TaskFailure } from '../runtime/task-failure.js';
import type { Reservation } from '../scheduler/node-resources.js';
import type { InstanceStore } from '../store/instance-store.js';
import type { InstanceRecord, InstanceStatus, LogEntry } from '../store/records.js';
import type { CallSummary } from '../invocations/call-summary.js';
import { fromCallFailure, fromThreadFailure } from './instance-errors.js';
import { redactError, redactLogs } from '../common/secret-redaction.js';
import { InstanceLauncher, type InstanceLauncherOptions } from './instance-launcher.js';
import { nameKey, newInstanceRecord, view, type CreateInstanceRequest, type InstanceView } from './instance-record.js';

export type { CreateInstanceRequest, InstanceView } from './instance-record.js';

export interface InstanceFilter {
  function?: string;
  status?: InstanceStatus;
  group?: string;
}

export interface InstanceManagerOptions extends InstanceLauncherOptions {
  store: InstanceStore;
  defaults: { cpu: number; memory: number };
  log: (message: string) => void;
  /** Serves the calls instance threads make through their ctx (see gateway-router.ts). */
  routeRequest: RouteGatewayRequest;
  /** Where synchronous method calls and constructors are recorded (in memory, with their logs). */
  record?: (call: CallSummary) => void;
}

/** How a method call ended, with what it logged (redacted); a failed call is a report, not a throw. */
export type MethodReport = { ok: true; json: string; logs: LogEntry[] } | { ok: false; error: WispError; logs: LogEntry[] };

export interface MethodCallOptions {
  /** Instances the caller is itself running inside (a ctx.instance() call from an instance). */
  chain?: string[];
  /** Numbers the call's log lines: the attempt of an asynchronous invocation. */
  attempt?: number;
}

/**
 * How long a checkpoint may take once the shutdown deadline has passed. By then every busy
 * instance has been stopped, so what is left is idle and its checkpoint starts at once.
 */
const LATE_CHECKPOINT_MS = 1000;

interface Live {
  record: InstanceRecord;
  thread?: InstanceThread;
  reservation?: Reservation;
  /** The function's timeoutMs, which bounds each method call. */
  timeoutMs: number;
  /** Set while a suspend takes its checkpoint: new calls are refused, queued ones still run. */
  suspending: boolean;
}

export class InstanceManager {
  readonly #o: InstanceManagerOptions;
  readonly #live = new Map<string, Live>();
  readonly #byName = new Map<string, string>();
  readonly #mutex = new KeyedMutex();
  readonly #launcher: InstanceLauncher;
  #closing = false;
  /** Armed by closeBy(): stops busy instances at the shutdown deadline. */
  #deadline: NodeJS.Timeout | undefined;
  #pastDeadline = false;
  readonly #stoppedAtDeadline = new WeakSet<Live>();
  #memberExit: ((record: InstanceRecord, detail: string) => void) | undefined;

  constructor(options: InstanceManagerOptions) {
    this.#o = options;
    this.#launcher = new InstanceLauncher(options);
  }

  /**
   * Creates an instance; with a name, returns the existing one instead (`created: false`). With
   * `invocationId`, the constructor's run (its console output) is recorded under that id.
   */
  async create(fn: string, request: CreateInstanceRequest, invocationId?: string): Promise<{ created: boolean; instance: InstanceView }> {
    if (request.name === undefined) return { created: true, instance: await this.#createNew(fn, request, invocationId) };
    const key = nameKey(fn, request.name);
    return this.#mutex.run(key, async () => {
      const existing = this.#byName.get(key);
      if (existing) return { created: false, instance: view(this.#get(existing).record) };
      return { created: true, instance: await this.#createNew(fn, request, invocationId) };
    });
  }

  get(id: string): InstanceView {
    return view(this.#get(id).record);
  }

  list(filter: InstanceFilter = {}): InstanceView[] {
    const out: InstanceView[] = [];
    for (const { record } of this.#live.values()) {
      if (filter.function !== undefined && record.function !== filter.function) continue;
      if (filter.status !== undefined && record.status !== filter.status) continue;
      if (filter.group !== undefined && record.group !== filter.group) continue;
      out.push(view(record));
    }
    return out;
  }

  /** Calls a method; resolves to its result as JSON text. `chain`: instances the caller waits in. */
  async call(id: string, method: string, args: unknown[], chain: string[] = []): Promise<string> {
    const report = await this.#call(id, method, args, { chain });
    if (!report.ok) throw report.error;
    return report.json;
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
   * A synchronous call from the API: recorded under `invocationId` with its result or error and
   * its logs, where synchronous function calls are (in memory), then answered like call().
   */
  async callRecorded(id: string, method: string, args: unknown[], invocationId: string): Promise<string> {
    const startedAt = Date.now();
    const record = this.#live.get(id)?.record;
    const report = await this.run(id, method, args);
    if (record) this.#record(invocationId, record, method, startedAt, report);
    if (!report.ok) throw report.error;
    return report.json;
  }

  async #call(id: string, method: string, args: unknown[], { chain = [], attempt = 1 }: MethodCallOptions): Promise<MethodReport> {
    const live = this.#get(id);
    if (chain.includes(id)) {
      throw new WispError('CALL_CYCLE', `instance ${id} is already waiting in this call chain (${[...chain, id].join(' → ')}); calling it would wait on itself`);
    }
    const thread = this.#runningThread(live);
    let outcome: LoggedInstanceOutcome<string>;
    try {
      outcome = await thread.call(method, args, chain, live.timeoutMs, attempt);
    } catch (err) {
      throw err instanceof TaskFailure ? fromThreadFailure(err, id, `method ${method}`) : err;
    }
    // A method that logs or throws a secret must not show it (as for stateless calls).
    const secrets = this.#o.secrets(live.record.function);
    const logs = secrets ? redactLogs(outcome.logs, secrets.redact) : outcome.logs;
    if (!outcome.ok) {
      return { ok: false, error: fromCallFailure(secrets ? { ...outcome, error: redactError(outcome.error, secrets.redact) } : outcome, id, method), logs };
    }
    return { ok: true, json: outcome.value, logs };
  }

  #record(invocationId: string, record: InstanceRecord, method: string, startedAt: number, report: MethodReport): void {
    this.#o.record?.({
      id: invocationId,
      function: record.function,
      version: record.version,
      mode: 'sync',
      input: null,
      parentId: null,
      startedAt,
      finishedAt: Date.now(),
      resultJson: report.ok ? report.json : null,
      error: report.ok ? null : report.error,
      logs: report.logs,
      instance: record.id,
      method,
    });
  }

  delete(id: string): Promise<void> {
    return this.#mutex.run(id, async () => {
      const live = this.#notInGroup(id, 'delete');
      this.#forget(live);
      this.#o.store.delete(id);
      await this.#stop(live);
    });
  }

  /** Checkpoints the state, stops the thread and frees the resources; idempotent. */
  suspend(id: string): Promise<InstanceView> {
    return this.#mutex.run(id, async () => {
      const live = this.#notInGroup(id, 'suspend');
      if (live.record.status === 'suspended') return view(live.record);
      const thread = this.#runningThread(live);
      live.suspending = true;
      try {
        await this.#checkpoint(live, thread);
        this.#setStatus(live.record, 'suspended');
        await this.#stop(live);
      } finally {
        live.suspending = false;
      }
      return view(live.record);
    });
  }

  /** Restores a suspended instance from its checkpoint, with the same id, if it still fits. */
  resume(id: string): Promise<InstanceView> {
    return this.#mutex.run(id, async () => {
      const live = this.#notInGroup(id, 'resume');
      if (live.record.status === 'running') return view(live.record);
      if (live.record.status !== 'suspended') {
        throw new WispError('INSTANCE_NOT_SUSPENDED', `instance ${id} is ${live.record.status}, not suspended; only a suspended instance can be resumed`);
      }
      await this.#launch(live);
      this.#setStatus(live.record, 'running');
      return view(live.record);
    });
  }

  /** Brings back the instances the store holds: those that were running start again. */
  async recover(): Promise<void> {
    const starting: Promise<void>[] = [];
    for (const record of this.#o.store.list()) {
      const live = this.#adopt(record);
      // A group's members start with their group (groups/group-manager.ts), all or none.
      if (record.group !== null || (record.status !== 'running' && record.status !== 'starting')) continue;
      starting.push(
        this.#mutex.run(record.id, async () => {
          try {
            await this.#launch(live);
            this.#setStatus(record, 'running');
          } catch (err) {
            this.#o.log(`instance ${record.id} did not come back after the restart: ${(err as Error).message}`);
            this.#setStatus(record, 'failed');
          }
        }),
      );
    }
    await Promise.all(starting);
  }

  /**
   * Bounds the shutdown: at `deadlineAt`, every instance still busy (a call running or queued, a
   * checkpoint not finished, its own or its group's) has its thread stopped, and keeps its last
   * checkpoint. Checkpoints asked for after that (of instances left idle) get LATE_CHECKPOINT_MS.
   */
  closeBy(deadlineAt: number): void {
    clearTimeout(this.#deadline);
    this.#deadline = setTimeout(() => this.#deadlinePassed(), Math.max(0, deadlineAt - Date.now()));
    this.#deadline.unref();
  }

  /** Checkpoints every running instance (they come back on the next start), then stops them. */
  async close(): Promise<void> {
    this.#closing = true;
    // Without a shutdown deadline, close() is bounded all the same.
    if (this.#deadline === undefined) this.closeBy(Date.now() + this.#o.checkpointTimeoutMs);
    await Promise.all(
      [...this.#live.values()].map((live) =>
        this.#mutex.run(live.record.id, async () => {
          if (!live.thread || live.record.group !== null) return; // groups checkpoint as a whole
          try {
            await this.#checkpoint(live, live.thread, this.#checkpointTimeout());
            this.#o.store.save(live.record);
          } catch (err) {
            // One stopped at the deadline has been logged as such.
            if (!this.#stoppedAtDeadline.has(live)) this.#o.log(`instance ${live.record.id} not checkpointed at shutdown (${(err as Error).message}); ${keeps(live.record)}`);
          }
          await this.#stop(live);
        }),
      ),
    );
    clearTimeout(this.#deadline);
    await this.#launcher.close();
  }

  #deadlinePassed(): void {
    this.#pastDeadline = true;
    for (const live of this.#live.values()) {
      if (!live.thread?.busy) continue;
      this.#o.log(`instance ${live.record.id} was still busy at the shutdown deadline: its thread was stopped; ${keeps(live.record)}`);
      this.#stoppedAtDeadline.add(live);
      void this.#stop(live);
    }
  }

  /** A checkpoint's timeout: as configured, and short once the shutdown deadline has passed. */
  #checkpointTimeout(): number | undefined {
    return this.#pastDeadline ? LATE_CHECKPOINT_MS : undefined;
  }

  /** The instances holding resources now, for GET /v1/node. */
  holding(): Pick<InstanceView, 'id' | 'function' | 'class' | 'status' | 'resources'>[] {
    return [...this.#live.values()].filter((live) => live.reservation).map(({ record: r }) => ({ id: r.id, function: r.function, class: r.class, status: r.status, resources: r.resources }));
  }

  // ---- Group members: groups/group-manager.ts drives them, all or none, through these. ----

  /** Who hears that a member's thread died; members are not restarted one by one. */
  onMemberExit(handler: (record: InstanceRecord, detail: string) => void): void {
    this.#memberExit = handler;
  }

  /** The record a member would have; throws if its function, class or name is not available. */
  prepareMember(fn: string, request: CreateInstanceRequest, group: string): InstanceRecord {
    if (request.name !== undefined && this.#byName.has(nameKey(fn, request.name))) {
      throw new WispError('INVALID_REQUEST', `function "${fn}" already has an instance named "${request.name}"`);
    }
    return { ...newInstanceRecord(this.#o.registry.resolve(fn), request, this.#o.defaults), group };
  }

  /** Starts a member on a reservation made for it (from its checkpoint if it has one). */
  async startMember(record: InstanceRecord, reservation: Reservation): Promise<void> {
    const live = this.#live.get(record.id) ?? { record, timeoutMs: 0, suspending: false };
    await this.#launch(live, undefined, reservation);
    record.status = 'running';
    record.failure = null;
    record.updatedAt = new Date().toISOString();
    this.#adopt(record, live);
  }

  /** Checkpoints a running member without touching its record; resolves to the new fields. */
  checkpointMember(id: string): Promise<Pick<InstanceRecord, 'checkpoint' | 'checkpointedAt'>> {
    const live = this.#get(id);
    return this.#launcher.checkpoint(live.record, this.#runningThread(live), this.#checkpointTimeout());
  }

  stopMember(id: string): Promise<void> {
    const live = this.#live.get(id);
    return live ? this.#stop(live) : Promise.resolve();
  }

  forgetMember(id: string): void {
    const live = this.#live.get(id);
    if (live) this.#forget(live);
  }

  /** The member's live record, which its group updates and saves with the group. */
  memberRecord(id: string): InstanceRecord {
    return this.#get(id).record;
  }

  async #createNew(fn: string, request: CreateInstanceRequest, invocationId?: string): Promise<InstanceView> {
    const version = this.#o.registry.resolve(fn);
    const record = newInstanceRecord(version, request, this.#o.defaults);
    const live: Live = { record, timeoutMs: version.config.timeoutMs, suspending: false };
    const startedAt = Date.now();
    let logs: LogEntry[] = [];
    const onLogs = (lines: LogEntry[]) => {
      const secrets = this.#o.secrets(fn);
      logs = secrets ? redactLogs(lines, secrets.redact) : lines;
    };
    const recordConstructor = (error: WispError | null) => {
      if (invocationId !== undefined) this.#record(invocationId, record, 'constructor', startedAt, error ? { ok: false, error, logs } : { ok: true, json: 'null', logs });
    };
    let saved = false;
    // The durable write (an fsync) happens while the thread boots, not after it.
    const saveWhileStarting = () => {
      record.status = 'running';
      this.#o.store.save(record);
      saved = true;
    };
    try {
      await this.#launch(live, saveWhileStarting, undefined, onLogs);
    } catch (err) {
      // A constructor that throws leaves nothing behind, the record included.
      if (saved) this.#o.store.delete(record.id);
      await this.#stop(live);
      if (err instanceof WispError) recordConstructor(err);
      throw err;
    }
    recordConstructor(null);
    this.#adopt(record, live);
    return view(record);
  }

  /** Starts the instance's thread (see InstanceLauncher) and watches it for an exit nobody asked for. */
  async #launch(live: Live, whileStarting?: () => void, reserved?: Reservation, onLogs?: (logs: LogEntry[]) => void): Promise<void> {
    const { record } = live;
    const started = await this.#launcher.launch(record, { whileStarting, reserved, routeCall: this.#o.routeRequest, onLogs });
    Object.assign(live, started);
    started.thread.onExit((exit) => {
      this.#stop(live).catch(() => undefined);
      if (this.#closing) return;
      if (record.group !== null) return this.#memberExit?.(record, exit.detail);
      void this.#mutex.run(record.id, () => this.#restartOrFail(live, exit.detail));
    });
  }

  async #restartOrFail(live: Live, why: string): Promise<void> {
    const { record } = live;
    if (this.#live.get(record.id) !== live || live.thread || record.status !== 'running') return;
    if (record.restarts < record.maxRestarts) {
      record.restarts++;
      try {
        await this.#launch(live);
        this.#setStatus(record, 'running');
        return;
      } catch (err) {
        why = `${why}; restart failed: ${(err as Error).message}`;
      }
    }
    this.#o.log(`instance ${record.id} failed: ${why}`);
    record.failure = why;
    this.#setStatus(record, 'failed');
  }

  async #checkpoint(live: Live, thread: InstanceThread, timeoutMs?: number): Promise<void> {
    Object.assign(live.record, await this.#launcher.checkpoint(live.record, thread, timeoutMs));
  }

  /** Stops the thread, if any, and gives its reservation back. */
  async #stop(live: Live): Promise<void> {
    const { thread, reservation } = live;
    live.thread = undefined;
    live.reservation = undefined;
    reservation?.release();
    await thread?.terminate();
  }

  #runningThread(live: Live): InstanceThread {
    const { record } = live;
    if (record.status === 'suspended' || live.suspending) {
      throw new WispError('INSTANCE_SUSPENDED', `instance ${record.id} is suspended; resume it with POST /v1/instances/${record.id}/resume`);
    }
    if (!live.thread) {
      const why = record.status === 'failed' ? `it failed${record.failure ? ` (${record.failure})` : ''} and is not restarted` : 'it is restarting';
      throw new WispError('INSTANCE_UNAVAILABLE', `instance ${record.id} is not running: ${why}`, { retryAfterSeconds: 1 });
    }
    return live.thread;
  }

  #setStatus(record: InstanceRecord, status: InstanceStatus): void {
    record.status = status;
    record.updatedAt = new Date().toISOString();
    this.#o.store.save(record);
  }

  #adopt(record: InstanceRecord, live: Live = { record, timeoutMs: 0, suspending: false }): Live {
    this.#live.set(record.id, live);
    if (record.name !== null) this.#byName.set(nameKey(record.function, record.name), record.id);
    return live;
  }

  #forget(live: Live): void {
    this.#live.delete(live.record.id);
    if (live.record.name !== null) this.#byName.delete(nameKey(live.record.function, live.record.name));
  }

  #notInGroup(id: string, action: string): Live {
    const live = this.#get(id);
    if (live.record.group !== null) {
      throw new WispError('INSTANCE_IN_GROUP', `instance ${id} belongs to group "${live.record.group}"; ${action} the group instead (/v1/groups/${live.record.group})`);
    }
    return live;
  }

  #get(id: string): Live {
    const live = this.#live.get(id);
    if (!live) throw new WispError('INSTANCE_NOT_FOUND', `no instance with id "${id}"`);
    return live;
  }
}

/** What an instance stopped without a new checkpoint comes back from at the next start. */
function keeps(record: InstanceRecord): string {
  return record.checkpointedAt ? `it keeps its checkpoint of ${record.checkpointedAt}` : 'it has no checkpoint: its constructor runs again at the next start';
}
