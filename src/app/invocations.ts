// Invocations: the invoker of synchronous calls, the queue of asynchronous invocations and of
// batches, with their callbacks, and in a cluster the relays of invocation changes, cancels and
// followed logs between nodes.
import { randomUUID } from 'node:crypto';
import type { ClusterNode } from '../cluster/cluster-node.js';
import { ClusterSlots } from '../cluster/cluster-slots.js';
import type { Config } from '../config.js';
import type { Services } from '../gateway/services.js';
import type { InstanceRouter } from '../instances/instance-router.js';
import { BatchCompletion } from '../invocations/batch-completion.js';
import { Batches } from '../invocations/batches.js';
import type { CallSummary } from '../invocations/call-summary.js';
import { CallbackSender } from '../invocations/callback-sender.js';
import type { Dispatch } from '../invocations/dispatch.js';
import { Dispatcher } from '../invocations/dispatcher.js';
import type { FunctionLogFeed } from '../invocations/function-log-feed.js';
import { InvocationEvents } from '../invocations/invocation-events.js';
import { aloneRelay, startInvocationRelay, type InvocationRelay } from '../invocations/invocation-relay.js';
import { Invocations } from '../invocations/invocations.js';
import { Invoker } from '../invocations/invoker.js';
import { JobDispatcher } from '../invocations/job-dispatcher.js';
import { startLogRelay, type LogRelay } from '../invocations/log-relay.js';
import { SyncHistory } from '../invocations/sync-history.js';
import type { WispMetrics } from '../metrics/wisp-metrics.js';
import type { FunctionEnv } from '../registry/function-env.js';
import type { Registry } from '../registry/registry.js';
import type { StatelessPool } from '../runtime/stateless-pool.js';
import type { InvocationRecord } from '../store/records.js';
import type { AppContext } from './context.js';

export interface InvocationsWiring {
  cluster: ClusterNode;
  pool: StatelessPool;
  registry: Registry;
  env: FunctionEnv;
  instances: InstanceRouter;
  logFeed: FunctionLogFeed;
  /** What callbacks are signed with (see invocations/signing-secret.ts). */
  callbackSigningSecret: string;
  /** Counts calls and finished invocations; built later, as it reads the invoker. */
  metrics: () => WispMetrics;
}

export type InvocationServices = Pick<Services, 'invoker' | 'invocations' | 'batches' | 'startRelay' | 'stopRelay'>;

export function createInvocations(ctx: AppContext, o: InvocationsWiring): InvocationServices {
  const { config, stores, clock, log } = ctx;
  const { cluster, registry, instances } = o;
  const history = new SyncHistory(config.invocations.syncHistoryMb * 2 ** 20);
  // Each start is a new incarnation: its claims on attempts and slots are its own.
  const incarnation = `${cluster.nodeId}/${randomUUID()}`;
  const invoker = createInvoker(ctx, o, incarnation, (call, durable) => {
    o.metrics().callFinished(call);
    invocations.recordCall(call, durable);
  });
  const store = stores.invocations;
  const events = new InvocationEvents();
  const delivery = callbackDelivery(config);
  const callbacks = new CallbackSender({ store, events, clock, secret: o.callbackSigningSecret, ...delivery, log });
  const dispatchOptions = {
    store,
    // Takes back the claims of the incarnation before this one.
    node: cluster.nodeId,
    lease: { owner: incarnation, ms: config.invocations.leaseMs },
    mayTakeWork: () => cluster.holdsLease(),
    registry,
    invoker,
    instances,
    events,
    clock,
    maxRunning: config.invocations.maxRunning,
    maxBackoffMs: config.invocations.maxBackoffMs,
    onFinal: (record: InvocationRecord) => {
      o.metrics().invocationFinished(record);
      callbacks.finished(record);
    },
    log,
  };
  // A backend several nodes share queues on BullMQ (design §5.5); the embedded one on its own table.
  const dispatcher: Dispatch = stores.cluster ? new JobDispatcher({ ...dispatchOptions, queue: stores.cluster.queue }) : new Dispatcher(dispatchOptions);
  const invocations: Invocations = new Invocations({
    store,
    history,
    registry,
    instances,
    events,
    dispatcher,
    callbacks,
    clock,
    retentionMs: config.invocations.retentionMs,
    log,
    cancelElsewhere: (id) => relays.cancelElsewhere(id),
  });
  const batches = new Batches({
    store: stores.batches,
    invocations,
    dispatcher,
    events,
    clock,
    maxSize: config.invocations.maxBatchSize,
    completion: new BatchCompletion({ store: stores.batches, events, clock, secret: o.callbackSigningSecret, ...delivery, log }),
    retentionMs: config.invocations.retentionMs,
    log,
  });
  const relays = invocationRelays(ctx, { cluster, events, dispatcher, logFeed: o.logFeed });
  return { invoker, invocations, batches, startRelay: relays.start, stopRelay: relays.stop };
}

/** The invoker of synchronous calls; in a cluster, a function's concurrency slots are shared by the nodes. */
function createInvoker(ctx: AppContext, o: InvocationsWiring, incarnation: string, record: (call: CallSummary, durable: boolean) => void): Invoker {
  const { config, stores, clock, log } = ctx;
  const slots = stores.cluster ? new ClusterSlots({ store: stores.cluster.slots, owner: incarnation, leaseMs: config.cluster.leaseMs, clock, log }) : undefined;
  return new Invoker({
    registry: o.registry,
    pool: o.pool,
    maxDepth: config.invocations.maxDepth,
    record,
    secrets: (fn) => o.env.of(fn),
    clock,
    ...(slots ? { slots } : {}),
    logFeed: o.logFeed,
  });
}

/** How callbacks (of invocations and of batches) are delivered. */
function callbackDelivery(config: Config) {
  return {
    maxAttempts: config.invocations.callbacks.maxAttempts,
    backoff: { baseMs: config.invocations.callbacks.backoffMs, maxMs: config.invocations.callbacks.maxBackoffMs },
    timeoutMs: config.invocations.callbacks.timeoutMs,
  };
}

/** A cluster's relays of invocation changes, cancels and followed logs, started once the node has joined; alone, none. */
function invocationRelays(ctx: AppContext, o: { cluster: ClusterNode; events: InvocationEvents; dispatcher: Dispatch; logFeed: FunctionLogFeed }): { cancelElsewhere(id: string): void; start(): Promise<void>; stop(): void } {
  const { stores, clock, log } = ctx;
  let relay: InvocationRelay = aloneRelay;
  let logRelay: LogRelay | undefined;
  return {
    cancelElsewhere: (id) => relay.cancelElsewhere(id),
    start: async () => {
      if (!stores.cluster) return;
      relay = await startInvocationRelay({ bus: stores.cluster.bus, nodeId: o.cluster.nodeId, events: o.events, store: stores.invocations, dispatcher: o.dispatcher, log });
      logRelay = await startLogRelay({ bus: stores.cluster.bus, nodeId: o.cluster.nodeId, feed: o.logFeed, now: () => clock.now(), log });
    },
    stop: () => logRelay?.close(),
  };
}
