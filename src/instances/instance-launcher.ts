// Turns an instance record into a running thread holding a reservation, and a running thread's
// state into a checkpoint blob. The instance manager decides when; this file knows how.
// Checkpoints are bounded (checkpointLimit): the thread measures its state before serializing it,
// the bytes move between threads instead of being copied, and a checkpoint on disk is measured
// before it is read back.
import { type Clock } from '../common/clock.js';
import type { FunctionSecrets } from '../common/secret-redaction.js';
import { WispError } from '../errors.js';
import type { Registry } from '../registry/registry.js';
import type { InstanceThread } from '../runtime/instance-thread.js';
import type { InstanceOutcome, RouteGatewayRequest, SocketAction } from '../runtime/protocol.js';
import { WarmThreads } from '../runtime/warm-threads.js';
import { TaskFailure } from '../runtime/task-failure.js';
import type { NodeResources, Reservation } from '../scheduler/node-resources.js';
import type { BlobStore } from '../store/blob-store.js';
import type { InstanceRecord, LogEntry, VersionRecord } from '../store/records.js';
import { checkpointFailed, checkpointTooLarge, fromStartFailure, fromThreadFailure } from './instance-errors.js';

export interface InstanceLauncherOptions {
  registry: Registry;
  blobs: BlobStore;
  resources: NodeResources;
  startTimeoutMs: number;
  checkpointTimeoutMs: number;
  resultBytes: number;
  /** The configured most a checkpoint may hold (instances.checkpointBytes); see checkpointLimit. */
  checkpointBytes: number;
  /** What one call's (or the constructor's) console output may hold. */
  logBytes: number;
  memoryCheckIntervalMs: number;
  /** The most booted, empty threads kept ready for creates (instances.warmThreads; see warm-threads.ts). */
  warmThreads: number;
  /** The function's secrets (handed to the instance as this.ctx.env when it starts); undefined: none. */
  secrets: (fn: string) => FunctionSecrets | undefined;
  clock: Clock;
}

export interface LaunchOptions {
  /** Runs once the thread is booting, to overlap work (a durable write) with its start. */
  whileStarting?: (() => Promise<void>) | undefined;
  /** A reservation made beforehand (a group's gang admission); otherwise one is made here. */
  reserved?: Reservation | undefined;
  routeCall: RouteGatewayRequest;
  /** What the instance does to its clients' WebSockets. */
  onSocketAction?: ((action: SocketAction) => void) | undefined;
  /** Told what the constructor (or restore) wrote to console.*, unredacted, whether or not it succeeded. */
  onLogs?: ((logs: LogEntry[]) => void) | undefined;
}

/**
 * The most a checkpoint of an instance with `memoryMb` may hold: the configured bytes, and at most
 * a quarter of its memory. The thread must hold its state, what serializing it allocates (a
 * flattened string, the list of an array's keys) and, restored in a fresh thread, the state
 * rebuilt from the bytes (numbers take more room restored than serialized); past its heap cap
 * inside V8's serializer, the whole process aborts rather than the thread.
 */
export function checkpointLimit(checkpointBytes: number, memoryMb: number): number {
  return Math.min(checkpointBytes, Math.floor((memoryMb * 2 ** 20) / 4));
}

export interface Launched {
  thread: InstanceThread;
  reservation: Reservation;
  /** The function's timeoutMs, which bounds each method call. */
  timeoutMs: number;
}

export class InstanceLauncher {
  readonly #o: InstanceLauncherOptions;
  readonly #warm: WarmThreads;

  constructor(options: InstanceLauncherOptions) {
    this.#o = options;
    this.#warm = new WarmThreads({ maxThreads: options.warmThreads });
  }

  /**
   * Reserves resources and starts the thread, from the record's last checkpoint if it has one.
   * On any failure nothing is held: the reservation is released and the thread stopped.
   */
  async launch(record: InstanceRecord, { whileStarting, reserved, routeCall, onSocketAction, onLogs }: LaunchOptions): Promise<Launched> {
    let reservation = reserved;
    let version: VersionRecord;
    let checkpoint: Buffer | null;
    const limit = this.#limit(record);
    try {
      version = await this.#o.registry.resolveFresh(record.function, record.version);
      checkpoint = record.checkpoint ? await this.#readCheckpoint(record, limit) : null;
      reservation ??= this.#o.resources.reserve(record.resources);
    } catch (err) {
      reservation?.release();
      throw err;
    }
    const starting = this.#warm
      .take(record.resources.memory)
      .init(
        {
          code: this.#o.registry.code(version),
          className: record.class,
          instanceId: record.id,
          args: record.args,
          checkpoint,
          resultBytes: this.#o.resultBytes,
          memoryMb: record.resources.memory,
          memoryCheckIntervalMs: this.#o.memoryCheckIntervalMs,
          env: this.#o.secrets(record.function)?.values ?? {},
          logBytes: this.#o.logBytes,
          checkpointBytes: limit,
        },
        { startTimeoutMs: this.#o.startTimeoutMs, routeCall, onSocketAction },
      );
    let started: InstanceOutcome<InstanceThread>;
    const working = whileStarting?.();
    try {
      const [outcome] = await Promise.all([starting, working]);
      onLogs?.(outcome.logs);
      started = outcome;
      this.#warm.refill(record.resources.memory);
    } catch (err) {
      reservation.release();
      // The caller learns what whileStarting did (a record written, or not) before it hears why the start failed.
      await working?.catch(() => undefined);
      // If whileStarting threw, the thread may still come up: stop it when it does.
      void starting.then(
        (outcome) => (outcome.ok ? outcome.value.terminate() : undefined),
        () => undefined,
      );
      if (!(err instanceof TaskFailure)) throw err;
      throw new WispError('INSTANCE_INIT_FAILED', `function "${record.function}" ${record.class} could not start: ${err.reason === 'timeout' ? err.message : `its thread crashed: ${err.message}`}`);
    }
    if (!started.ok) {
      reservation.release();
      throw fromStartFailure(started, record.function, record.class);
    }
    return { thread: started.value, reservation, timeoutMs: version.config.timeoutMs };
  }


  /** Writes the thread's state to a blob; the record is left for the caller to update. */
  async checkpoint(record: InstanceRecord, thread: InstanceThread, timeoutMs = this.#o.checkpointTimeoutMs): Promise<Pick<InstanceRecord, 'checkpoint' | 'checkpointedAt'>> {
    // Stamped when asked for, not when stored: the state holds every call answered before this
    // time (the thread takes it after the calls it has run), while a stamp taken after the write
    // could postdate calls the state does not hold.
    const takenAt = this.#o.clock.now();
    let outcome: InstanceOutcome<Uint8Array>;
    try {
      outcome = await thread.checkpoint(timeoutMs);
    } catch (err) {
      throw err instanceof TaskFailure ? fromThreadFailure(err, record.id, 'checkpoint') : err;
    }
    if (!outcome.ok) throw checkpointFailed(outcome, record.id);
    // The thread measured it; measured again here, since it is what gets written and read back.
    const limit = this.#limit(record);
    if (outcome.value.byteLength > limit) throw checkpointTooLarge(record, `${outcome.value.byteLength} bytes`, limit);
    return { checkpoint: await this.#o.blobs.put(outcome.value), checkpointedAt: takenAt };
  }

  #limit(record: InstanceRecord): number {
    return checkpointLimit(this.#o.checkpointBytes, record.resources.memory);
  }

  /** The record's checkpoint, if it is within the limit: a larger one (written under another configuration) could not be restored safely. */
  async #readCheckpoint(record: InstanceRecord, limit: number): Promise<Buffer> {
    const size = await this.#o.blobs.size(record.checkpoint!);
    if (size > limit) {
      throw new WispError(
        'INSTANCE_INIT_FAILED',
        `instance ${record.id}: its checkpoint is ${size} bytes, over the ${limit}-byte checkpoint limit for ${record.resources.memory} MiB of memory; it was not restored (the limit is instances.checkpointBytes, at most a quarter of the instance's memory)`,
        { checkpointBytes: size, limitBytes: limit },
      );
    }
    return this.#o.blobs.get(record.checkpoint!);
  }

  /** Stops the warm threads. */
  close(): Promise<void> {
    return this.#warm.close();
  }
}
