// Instances as the API and functions see them, wherever they run: an operation on an instance
// this node holds goes to its host (instance-manager.ts); one on an instance another node owns
// goes to that node (design §5.3), found in the store's directory. Alone, a node holds every
// instance there is, and this is a thin pass-through.
//
// What a forwarded operation may do when it fails on the way: a request that never reached the
// owner, or that the owner refused as NOT_OWNER (it was claimed elsewhere meanwhile), is sent
// once more after reading the directory again; one that was sent and got no answer may have run,
// and is not sent again (methods are not idempotent): the caller gets 503 INSTANCE_UNAVAILABLE.
import { WispError } from '../errors.js';
import { nodeFenced } from './instance-errors.js';
import type { InstanceStore } from '../store/instance-store.js';
import type { InstanceRecord, LogEntry } from '../store/records.js';
import type { InstanceFilter, InstanceManager, MethodCallOptions, MethodReport, Owner } from './instance-manager.js';
import { view, type CreateInstanceRequest, type InstanceView } from './instance-record.js';
import type { PausableLink, SocketSession } from './socket-calls.js';
import type WebSocket from 'ws';

/** An operation one node asks another to run on an instance it owns (the internal route's body). */
export type InstanceOp =
  | { op: 'create'; fn: string; request: CreateInstanceRequest; invocationId?: string }
  | { op: 'call'; id: string; epoch: number; method: string; args: unknown[]; chain: string[]; attempt: number; invocationId?: string }
  | { op: 'suspend' | 'resume' | 'delete'; id: string; epoch: number }
  | { op: 'adopt'; id: string; epoch: number };

/** A method call's report as it crosses between nodes. */
export type WireReport = { ok: true; json: string; logs: LogEntry[]; owner?: Owner } | { ok: false; error: { code: string; message: string; extensions: Record<string, unknown> }; logs: LogEntry[] };

/** The cluster, as instances need it (cluster/instance-peers.ts). */
export interface InstancePeers {
  readonly self: string;
  /** Whether this node may answer for its instances now (see cluster/membership.ts). */
  holdsLease(): boolean;
  /** Runs `op` on `node`; throws the WispError it ended with, or INSTANCE_UNAVAILABLE for a node not reached or not answering. */
  send<T>(node: string, op: InstanceOp, timeoutMs: number): Promise<T>;
  /** Chooses where a new instance goes and creates it there (or here, through `local`). */
  place(request: CreateInstanceRequest & { fn: string; invocationId?: string }, local: () => Promise<{ created: boolean; instance: InstanceView }>): Promise<{ created: boolean; instance: InstanceView }>;
  /** How long a forwarded call of this instance's method may take. */
  callTimeoutMs(record: InstanceRecord): number;
  /** Opens a relay's WebSocket to the instance on its owner; throws the owner's refusal. */
  openSocket(record: InstanceRecord): Promise<WebSocket>;
}

export const toWire = (report: MethodReport): WireReport =>
  report.ok ? report : { ok: false, error: { code: report.error.code, message: report.error.message, extensions: { ...report.error.extensions } }, logs: report.logs };

export const fromWire = (report: WireReport): MethodReport =>
  report.ok ? report : { ok: false, error: new WispError(report.error.code as WispError['code'], report.error.message, report.error.extensions), logs: report.logs };

function fenced(id: string): WispError {
  return nodeFenced(`the node that runs instance ${id} lost its cluster lease; the instance is moving to another node, try again in a moment`);
}

/** A NOT_OWNER from the owner, or a node that cannot be reached: worth one more try after reading the directory again. */
const worthRetrying = (err: unknown) => err instanceof WispError && (err.code === 'NOT_OWNER' || (err.code === 'INSTANCE_UNAVAILABLE' && err.extensions.sent === false));

export class InstanceRouter {
  readonly #host: InstanceManager;
  readonly #store: InstanceStore;
  readonly #peers: InstancePeers | null;

  /** `peers` null: a node alone, which holds every instance. */
  constructor(host: InstanceManager, store: InstanceStore, peers: InstancePeers | null) {
    this.#host = host;
    this.#store = store;
    this.#peers = peers;
  }

  create(fn: string, request: CreateInstanceRequest, invocationId?: string): Promise<{ created: boolean; instance: InstanceView }> {
    const local = () => this.createHere(fn, request, invocationId);
    return this.#peers ? this.#peers.place({ ...request, fn, ...(invocationId === undefined ? {} : { invocationId }) }, local) : local();
  }

  /** Creates the instance on this node (a peer placed it here). */
  createHere(fn: string, request: CreateInstanceRequest, invocationId?: string): Promise<{ created: boolean; instance: InstanceView }> {
    return this.#answerNew(() => this.#host.create(fn, request, invocationId));
  }

  async get(id: string): Promise<InstanceView> {
    if (!this.#peers || this.#host.holds(id)) return this.#host.get(id);
    return view(await this.#record(id));
  }

  async list(filter: InstanceFilter = {}): Promise<InstanceView[]> {
    if (!this.#peers) return this.#host.list(filter);
    return (await this.#store.list())
      .filter((r) => (filter.function === undefined || r.function === filter.function) && (filter.status === undefined || r.status === filter.status) && (filter.group === undefined || r.group === filter.group))
      .map((record) => (this.#host.holds(record.id) ? this.#host.get(record.id) : view(record)));
  }

  /** Calls a method; resolves to its result as JSON text. `chain`: instances the caller waits in. */
  async call(id: string, method: string, args: unknown[], chain: string[] = []): Promise<string> {
    const report = await this.run(id, method, args, { chain });
    if (!report.ok) throw report.error;
    return report.json;
  }

  /** Calls a method and reports how it went, with what it logged; throws only for a call that could not be made. */
  run(id: string, method: string, args: unknown[], options: MethodCallOptions = {}): Promise<MethodReport> {
    return this.#route(
      id,
      () => this.runHere(id, method, args, options),
      async (record) => fromWire(await this.#peers!.send<WireReport>(record.node!, { op: 'call', id, epoch: record.epoch ?? 0, method, args, chain: options.chain ?? [], attempt: options.attempt ?? 1, ...(options.invocationId === undefined ? {} : { invocationId: options.invocationId }) }, this.#peers!.callTimeoutMs(record))),
    );
  }

  /**
   * A synchronous call from the API, recorded under `invocationId` on this node, wherever it ran:
   * its result as JSON text, and the node (and epoch) that answered.
   */
  async callRecorded(id: string, method: string, args: unknown[], invocationId: string): Promise<{ json: string; owner: Owner | undefined }> {
    if (!this.#peers || this.#host.holds(id)) {
      const json = await this.#answer(id, () => this.#host.callRecorded(id, method, args, invocationId));
      return { json, owner: this.#host.ownerOf(id) };
    }
    const startedAt = Date.now();
    const record = await this.#store.get(id);
    const report = await this.run(id, method, args, { invocationId });
    // Recorded where the client asked, with the logs the owner sent back.
    if (record) this.#host.recordCall(invocationId, record, method, startedAt, report);
    if (!report.ok) throw report.error;
    return { json: report.json, owner: report.owner };
  }

  suspend(id: string): Promise<InstanceView> {
    return this.#route(id, () => this.#answer(id, () => this.#host.suspend(id)), (record) => this.#peers!.send<InstanceView>(record.node!, { op: 'suspend', id, epoch: record.epoch ?? 0 }, OPERATION_TIMEOUT_MS));
  }

  resume(id: string): Promise<InstanceView> {
    return this.#route(id, () => this.#answer(id, () => this.#host.resume(id)), (record) => this.#peers!.send<InstanceView>(record.node!, { op: 'resume', id, epoch: record.epoch ?? 0 }, OPERATION_TIMEOUT_MS));
  }

  async delete(id: string): Promise<void> {
    await this.#route(id, () => this.#answer(id, () => this.#host.delete(id)), (record) => this.#peers!.send<null>(record.node!, { op: 'delete', id, epoch: record.epoch ?? 0 }, OPERATION_TIMEOUT_MS));
  }

  /**
   * Checks, before the upgrade, that a client's WebSocket can go to the instance (waking it if it
   * hibernates); throws the problem to answer. Resolves to null when this node holds it, or to
   * the WebSocket opened to its owner, to relay the client's through (cluster/socket-relay.ts).
   */
  prepareSocket(id: string): Promise<WebSocket | null> {
    return this.#route(
      id,
      async () => {
        await this.#answer(id, () => this.#host.prepareSocket(id));
        return null;
      },
      (record) => this.#peers!.openSocket(record),
    );
  }

  /** Hands an upgraded client's WebSocket to the instance this node holds. */
  openSocket(id: string, socketId: string, link: PausableLink): SocketSession {
    return this.#host.openSocket(id, socketId, link);
  }

  /** Whether this node may answer for instances now (alone: always). */
  mayAnswer(): boolean {
    return !this.#peers || this.#peers.holdsLease();
  }

  /** The instances holding resources on this node, for GET /v1/node. */
  holding(): ReturnType<InstanceManager['holding']> {
    return this.#host.holding();
  }

  /** A method call on an instance this node holds, refused once this node may no longer answer for it. */
  async runHere(id: string, method: string, args: unknown[], options: MethodCallOptions = {}): Promise<MethodReport> {
    const owner = this.#host.ownerOf(id);
    const report = await this.#host.run(id, method, args, options);
    if (this.#peers && !this.#peers.holdsLease()) return { ok: false, error: fenced(id), logs: report.logs };
    return report.ok && owner ? { ...report, owner } : report;
  }

  /** What an operation here answers, unless this node lost its lease meanwhile (another may hold the instance by now). */
  async #answer<T>(id: string, work: () => Promise<T>): Promise<T> {
    if (this.#peers && !this.#peers.holdsLease()) throw fenced(id);
    const out = await work();
    if (this.#peers && !this.#peers.holdsLease()) throw fenced(id);
    return out;
  }

  async #answerNew<T extends { instance: InstanceView }>(work: () => Promise<T>): Promise<T> {
    if (this.#peers && !this.#peers.holdsLease()) throw nodeFenced('this node lost its cluster lease and cannot create instances just now; try again in a moment');
    const out = await work();
    if (this.#peers && !this.#peers.holdsLease()) throw fenced(out.instance.id);
    return out;
  }

  /** Runs `here` when this node holds the instance, else `there` on its owner, once more after a refusal on the way. */
  async #route<T>(id: string, here: () => Promise<T>, there: (record: InstanceRecord) => Promise<T>): Promise<T> {
    if (!this.#peers || this.#host.holds(id)) return here();
    try {
      return await there(await this.#ownedElsewhere(id));
    } catch (err) {
      if (!worthRetrying(err)) throw err;
      if (this.#host.holds(id)) return here();
      try {
        return await there(await this.#ownedElsewhere(id));
      } catch (again) {
        // Still not where the directory says: it is between owners (being taken back). Retry later.
        if (again instanceof WispError && again.code === 'NOT_OWNER') {
          throw new WispError('INSTANCE_UNAVAILABLE', `instance ${id} is moving between nodes just now; try again in a moment`, { retryAfterSeconds: 1, sent: false });
        }
        throw again;
      }
    }
  }

  async #record(id: string): Promise<InstanceRecord> {
    const record = await this.#store.get(id);
    if (!record) throw new WispError('INSTANCE_NOT_FOUND', `no instance with id "${id}"`);
    return record;
  }

  /** The directory's record of an instance this node does not hold; throws when no node can take the call now. */
  async #ownedElsewhere(id: string): Promise<InstanceRecord> {
    const record = await this.#record(id);
    if (record.node === this.#peers!.self || !record.node) {
      // This node's, but not started here yet (it is being taken over), or nobody's yet.
      throw new WispError('INSTANCE_UNAVAILABLE', `instance ${id} is being started on a node just now; try again in a moment`, { retryAfterSeconds: 1 });
    }
    return record;
  }
}

/** How long a forwarded suspend, resume or delete may take (a checkpoint, a restore). */
const OPERATION_TIMEOUT_MS = 60_000;
