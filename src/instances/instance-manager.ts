// Stateful instances: create (get-or-create by name), call, suspend, resume, delete, restart on
// crash, hibernation when idle, and their life across a restart of Wisp. Each instance holds a
// reservation of the node's resources while its thread runs. Mutations of one instance run under
// its own mutex; calls do not take it. The pieces: live-instances.ts (the directory),
// instance-launcher.ts (starting a thread, checkpointing one), instance-calls.ts (method calls and
// their records), socket-calls.ts and instance-sockets.ts (clients' WebSockets), idle-watch.ts,
// instance-shutdown.ts, instance-ownership.ts (which instances this node holds in the cluster),
// instance-record-writer.ts (writing a record as its owner).

import { KeyedMutex } from '../common/keyed-mutex.js';
import { WispError } from '../errors.js';
import type { CallSummary } from '../invocations/call-summary.js';
import type { FunctionLogFeed } from '../invocations/function-log-feed.js';
import type { InstanceThread } from '../runtime/instance-thread.js';
import type { RouteGatewayRequest } from '../runtime/protocol.js';
import type { Reservation } from '../scheduler/node-resources.js';
import type { InstanceStore } from '../store/instance-store.js';
import type { InstanceRecord, InstanceStatus, LogEntry } from '../store/records.js';
import { InstanceCalls, type MethodCallOptions, type MethodReport, type Owner } from './instance-calls.js';
import { InstanceLauncher, type InstanceLauncherOptions } from './instance-launcher.js';
import { nameKey, newInstanceRecord, view, type CreateInstanceRequest, type InstanceView } from './instance-record.js';
import { InstanceShutdown } from './instance-shutdown.js';
import { fencedWhileStarting, isNodeFenced } from './instance-errors.js';
import { afterCall, keepDurable } from './checkpoint-policy.js';
import { LiveInstances, runningThread, stopThread, type LiveInstance } from './live-instances.js';
import { CLOSE, InstanceSockets } from './instance-sockets.js';
import { acceptingThread, SocketCalls, type PausableLink, type SocketSession } from './socket-calls.js';
import { Hibernation } from './instance-hibernation.js';
import { GroupMembers } from './group-members.js';
import { InstanceOwnership } from './instance-ownership.js';
import { InstanceRecordWriter } from './instance-record-writer.js';

export type { CreateInstanceRequest, InstanceView } from './instance-record.js';
export type { MethodCallOptions, MethodReport, Owner } from './instance-calls.js';

export interface InstanceFilter {
  function?: string;
  status?: InstanceStatus;
  group?: string;
}

export interface InstanceManagerOptions extends InstanceLauncherOptions {
  store: InstanceStore;
  /** This node: the owner of the instances it creates or claims. */
  nodeId: string;
  defaults: { cpu: number; memory: number };
  log: (message: string) => void;
  /** Serves the calls instance threads make through their ctx (see gateway-router.ts). */
  routeRequest: RouteGatewayRequest;
  /** Where synchronous method calls and constructors are recorded (in memory, with their logs). */
  record?: (call: CallSummary) => void;
  /** Where those following a function's logs get its instances' lines. */
  logFeed?: FunctionLogFeed;
  /** What may wait to be written to one client's WebSocket before it is closed as too slow. */
  socketBufferBytes: number;
}

export class InstanceManager {
  readonly #o: InstanceManagerOptions;
  readonly #live = new LiveInstances();
  readonly #mutex = new KeyedMutex();
  readonly #launcher: InstanceLauncher;
  readonly #calls: InstanceCalls;
  #closing = false;
  readonly #ownership: InstanceOwnership;
  readonly #records: InstanceRecordWriter;
  readonly #shutdown: InstanceShutdown;
  readonly #members: GroupMembers;
  readonly #sockets: InstanceSockets;
  readonly #socketCalls: SocketCalls;
  readonly #sleep: Hibernation;

  constructor(options: InstanceManagerOptions) {
    this.#o = options;
    this.#launcher = new InstanceLauncher(options);
    this.#calls = new InstanceCalls(options, this.#live);
    this.#sockets = new InstanceSockets(options.socketBufferBytes);
    this.#records = new InstanceRecordWriter({ store: options.store, clock: options.clock, asOwner: (id, write) => this.#ownership.asOwner(id, write) });
    this.#ownership = new InstanceOwnership({
      ...options,
      mutex: this.#mutex,
      instances: this.#live,
      sockets: this.#sockets,
      launch: (live) => this.#launch(live),
      setStatus: (record, status) => this.#records.setStatus(record, status),
      save: (record) => this.#records.save(record),
    });
    this.#sleep = new Hibernation({
      clock: options.clock,
      mutex: this.#mutex,
      instances: this.#live,
      sockets: this.#sockets,
      launch: (live, whileStarting) => this.#launch(live, whileStarting),
      save: (record) => this.#records.save(record),
      checkpoint: (live, thread) => this.#checkpoint(live, thread),
      stopAs: (live, status) => this.#records.stopAs(live, status),
      closing: () => this.#closing,
      log: options.log,
    });
    this.#members = new GroupMembers({
      instances: this.#live,
      sockets: this.#sockets,
      registry: options.registry,
      clock: options.clock,
      nodeId: options.nodeId,
      defaults: options.defaults,
      launch: (live, reserved) => this.#launch(live, undefined, reserved),
      checkpoint: (live) => this.#launcher.checkpoint(live.record, runningThread(live), this.#shutdown.checkpointTimeout()),
    });
    this.#sockets.onLastClosed((id) => {
      const live = this.#live.find(id);
      if (live) this.#sleep.touch(live);
    });
    this.#socketCalls = new SocketCalls({ sockets: this.#sockets, calls: this.#calls, secrets: options.secrets, touched: (live) => this.#sleep.touch(live) });
    this.#shutdown = new InstanceShutdown({
      ...options,
      instances: this.#live,
      mutex: this.#mutex,
      checkpoint: (live, thread, timeoutMs) => this.#checkpoint(live, thread, timeoutMs),
    });
  }

  /**
   * Creates an instance; with a name, returns the existing one instead (`created: false`). With
   * `invocationId`, the constructor's run (its console output) is recorded under that id.
   */
  async create(fn: string, request: CreateInstanceRequest, invocationId?: string): Promise<{ created: boolean; instance: InstanceView }> {
    const { name } = request;
    if (name === undefined) return this.#createNew(fn, request, invocationId);
    return this.#mutex.run(nameKey(fn, name), async () => {
      const existing = this.#live.idNamed(fn, name);
      if (existing) return { created: false, instance: view(this.#live.get(existing).record) };
      return this.#createNew(fn, request, invocationId);
    });
  }

  get(id: string): InstanceView {
    return view(this.#live.get(id).record);
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

  /**
   * Calls a method and reports how it went, with what it logged; never throws a WispError. An
   * instance with `checkpoint: "every-call"` reports only once its state after the call is
   * committed (or, if that fails, the call fails with why).
   */
  async run(id: string, method: string, args: unknown[], options: MethodCallOptions = {}): Promise<MethodReport> {
    let live = this.#live.find(id);
    if (live && this.#sleep.asleep(live)) {
      try {
        await this.#sleep.wake(live);
      } catch (err) {
        if (err instanceof WispError) return { ok: false, error: err, logs: [] };
        throw err;
      }
    }
    const report = await this.#calls.run(id, method, args, options);
    live = this.#live.find(id);
    if (!live) return report;
    this.#sleep.touch(live);
    return afterCall(live, report);
  }

  /**
   * Checks, before a client's WebSocket is upgraded, that the instance takes sockets (its class
   * has webSocketMessage); a hibernated instance is woken for it. Throws the problem to answer.
   */
  async prepareSocket(id: string): Promise<void> {
    const live = this.#live.get(id);
    if (this.#sleep.asleep(live)) await this.#sleep.wake(live);
    acceptingThread(live);
    // Its idle time starts again: it must not go to sleep between this check and the upgrade.
    this.#sleep.touch(live);
  }

  /** Hands an upgraded client's WebSocket to the instance (see socket-calls.ts). */
  openSocket(id: string, socketId: string, link: PausableLink): SocketSession {
    return this.#socketCalls.open(this.#live.get(id), socketId, link);
  }

  /** A synchronous call from the API, recorded under `invocationId` with its logs (see InstanceCalls). */
  async callRecorded(id: string, method: string, args: unknown[], invocationId: string): Promise<string> {
    const startedAt = this.#o.clock.now();
    const record = this.#live.find(id)?.record;
    const report = await this.run(id, method, args, { invocationId });
    if (record) this.#calls.record(invocationId, record, method, startedAt, report);
    if (!report.ok) throw report.error;
    return report.json;
  }

  /** Records a synchronous call that ran on another node, where callRecorded() would have. */
  recordCall(invocationId: string, record: InstanceRecord, method: string, startedAt: number, report: MethodReport): void {
    this.#calls.record(invocationId, record, method, startedAt, report);
  }

  delete(id: string): Promise<void> {
    return this.#mutex.run(id, async () => {
      const live = this.#live.standalone(id, 'delete');
      this.#sockets.closeAll(id, CLOSE.deleted);
      // Only this owner's epoch: an owner that lost the instance deletes nothing.
      await this.#ownership.asOwner(id, () => this.#o.store.delete(id, live.record.epoch ?? 0));
      this.#live.forget(live);
      await stopThread(live);
    });
  }

  /** Checkpoints the state, stops the thread and frees the resources; idempotent. */
  suspend(id: string): Promise<InstanceView> {
    return this.#mutex.run(id, async () => {
      const live = this.#live.standalone(id, 'suspend');
      if (live.record.status === 'suspended') return view(live.record);
      // Hibernated: checkpointed and stopped already; now only a resume brings it back.
      if (live.record.status === 'hibernated') {
        await this.#records.setStatus(live.record, 'suspended');
        return view(live.record);
      }
      const thread = runningThread(live);
      this.#sockets.closeAll(id, CLOSE.suspended);
      live.suspending = true;
      try {
        await this.#checkpoint(live, thread);
        await this.#records.stopAs(live, 'suspended');
      } finally {
        live.suspending = false;
      }
      return view(live.record);
    });
  }

  /** Restores a suspended instance from its checkpoint, with the same id, if it still fits. */
  resume(id: string): Promise<InstanceView> {
    return this.#mutex.run(id, async () => {
      const live = this.#live.standalone(id, 'resume');
      if (live.record.status === 'running') return view(live.record);
      if (live.record.status === 'hibernated') {
        await this.#sleep.wakeNow(live);
        return view(live.record);
      }
      if (live.record.status !== 'suspended') {
        throw new WispError('INSTANCE_NOT_SUSPENDED', `instance ${id} is ${live.record.status}, not suspended; only a suspended instance can be resumed`);
      }
      await this.#launch(live);
      await this.#records.setStatus(live.record, 'running');
      return view(live.record);
    });
  }

  /** Claims the store's instances that `ours` says are this node's (see InstanceOwnership). */
  recover(ours?: (record: InstanceRecord) => boolean): Promise<void> {
    return this.#ownership.recover(ours);
  }

  /** Takes over an instance whose owner is gone, if its epoch is still `epoch` (see InstanceOwnership). */
  adopt(id: string, epoch: number): Promise<boolean> {
    return this.#ownership.adopt(id, epoch);
  }

  ownerOf(id: string): Owner | undefined {
    return this.#ownership.ownerOf(id);
  }

  holds(id: string, epoch?: number): boolean {
    return this.#ownership.holds(id, epoch);
  }

  /** This node lost its cluster lease: it lets go of every instance (see InstanceOwnership). */
  dropAll(): Promise<void> {
    return this.#ownership.dropAll();
  }

  /** Bounds the shutdown: at `deadlineAt`, instances still busy are stopped (see InstanceShutdown). */
  closeBy(deadlineAt: number): void {
    this.#shutdown.closeBy(deadlineAt);
  }

  /** Checkpoints every running instance (they come back on the next start), then stops them. */
  async close(): Promise<void> {
    this.#closing = true;
    this.#sockets.closeEvery(CLOSE.shutdown);
    await this.#shutdown.close();
    await this.#launcher.close();
  }

  /** The instances holding resources now, for GET /v1/node. */
  holding(): Pick<InstanceView, 'id' | 'function' | 'class' | 'status' | 'resources'>[] {
    return [...this.#live.values()].filter((live) => live.reservation).map(({ record: r }) => ({ id: r.id, function: r.function, class: r.class, status: r.status, resources: r.resources }));
  }

  /** Group members: groups/group-manager.ts drives them, all or none, through these. */
  get members(): GroupMembers {
    return this.#members;
  }

  async #createNew(fn: string, request: CreateInstanceRequest, invocationId?: string): Promise<{ created: boolean; instance: InstanceView }> {
    const version = await this.#o.registry.resolveFresh(fn);
    const record = newInstanceRecord(version, request, this.#o.defaults, this.#o.clock.now(), this.#o.nodeId);
    const live: LiveInstance = { record, timeoutMs: version.config.timeoutMs, suspending: false };
    const constructorRun = this.#calls.constructorRun(fn, record, invocationId);
    let saved = false;
    /** Set when another creator of this name won (a second node, in cluster mode): theirs stands. */
    let theirs: InstanceRecord | undefined;
    // The durable write (an fsync, or a round trip) happens while the thread boots, not after it.
    const saveWhileStarting = async () => {
      record.status = 'running';
      const stored = await this.#o.store.create({ ...record });
      if (!stored.created) {
        theirs = stored.record;
        throw new Error(`the name "${record.name}" was taken meanwhile by instance ${stored.record.id}`);
      }
      saved = true;
    };
    return this.#ownership.creating(record.id, async () => {
      try {
        await this.#launch(live, saveWhileStarting, undefined, constructorRun.onLogs);
      } catch (err) {
        // A constructor that throws leaves nothing behind, the record included.
        if (saved) await this.#o.store.delete(record.id, record.epoch).catch((deleteErr: unknown) => this.#o.log(`instance ${record.id}: cannot delete the record of a failed create: ${String(deleteErr)}`));
        await stopThread(live);
        if (theirs) return { created: false, instance: view(theirs) };
        if (err instanceof WispError) constructorRun.done(err);
        throw err;
      }
      constructorRun.done(null);
      this.#live.adopt(record, live);
      return { created: true, instance: view(record) };
    });
  }

  /** Starts the instance's thread (see InstanceLauncher) and watches it for an exit nobody asked for. */
  async #launch(live: LiveInstance, whileStarting?: () => Promise<void>, reserved?: Reservation, onLogs?: (logs: LogEntry[]) => void): Promise<void> {
    const { record } = live;
    const droppedAll = this.#ownership.fence();
    const started = await this.#launcher.launch(record, { whileStarting, reserved, routeCall: this.#o.routeRequest, onSocketAction: (action) => this.#sockets.act(action), onLogs });
    Object.assign(live, started);
    if (droppedAll()) {
      // This node lost its lease while the thread started: it is not this node's to run.
      await stopThread(live);
      throw fencedWhileStarting(record.id);
    }
    keepDurable(
      live,
      async () => {
        await this.#checkpoint(live, runningThread(live));
        record.updatedAt = this.#o.clock.now();
        await this.#records.save(record);
      },
      this.#o.log,
    );
    this.#sleep.touch(live);
    started.thread.onExit((exit) => {
      this.#sockets.closeAll(record.id, CLOSE.crashed, exit.detail);
      stopThread(live).catch(() => undefined);
      if (this.#closing) return;
      if (record.group !== null) return this.#members.exited(record, exit.detail);
      this.#mutex.run(record.id, () => this.#restartOrFail(live, exit.detail)).catch((err: unknown) => this.#o.log(`instance ${record.id}: cannot restart or record its failure: ${String(err)}`));
    });
  }

  async #restartOrFail(live: LiveInstance, why: string): Promise<void> {
    const { record } = live;
    if (this.#live.find(record.id) !== live || live.thread || record.status !== 'running') return;
    if (record.restarts < record.maxRestarts) {
      record.restarts++;
      try {
        await this.#launch(live);
        await this.#records.setStatus(record, 'running');
        return;
      } catch (err) {
        if (isNodeFenced(err)) return;
        why = `${why}; restart failed: ${(err as Error).message}`;
      }
    }
    this.#o.log(`instance ${record.id} failed: ${why}`);
    record.failure = why;
    await this.#records.setStatus(record, 'failed');
  }

  async #checkpoint(live: LiveInstance, thread: InstanceThread, timeoutMs?: number): Promise<void> {
    Object.assign(live.record, await this.#launcher.checkpoint(live.record, thread, timeoutMs));
  }
}
