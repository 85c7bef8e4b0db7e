// Builds the Wisp application: store, registry, pool and the gateway's route plugins, wired
// together. main.ts listens with it; tests use app.inject().
import { randomUUID } from 'node:crypto';
import { chmodSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import Fastify, { LogController, type FastifyInstance } from 'fastify';
import type { Config } from './config.js';
import { docsRoutes } from './gateway/docs-routes.js';
import { uiRoutes } from './gateway/ui-routes.js';
import { functionRoutes } from './gateway/function-routes.js';
import { groupRoutes } from './gateway/group-routes.js';
import { instanceRoutes } from './gateway/instance-routes.js';
import { instanceSocketRoutes } from './gateway/instance-socket-routes.js';
import { registerWebSockets } from './gateway/websockets.js';
import { invokeRoutes } from './gateway/invoke-routes.js';
import { batchRoutes } from './gateway/batch-routes.js';
import { invocationRoutes } from './gateway/invocation-routes.js';
import { AllowedMethods } from './gateway/allowed-methods.js';
import { answerFrameworkError, installProblemHandlers, ROUTER_OPTIONS } from './gateway/problem.js';
import { rawHttpRoutes } from './gateway/raw-http-routes.js';
import type { Services } from './gateway/services.js';
import { systemRoutes } from './gateway/system-routes.js';
import { schemaController } from './gateway/validators.js';
import { GroupManager } from './groups/group-manager.js';
import { ClusterMemberHosts, type MemberOp } from './groups/cluster-member-hosts.js';
import { runMemberOp } from './groups/group-ops.js';
import { GroupRouter, type GroupAction } from './groups/group-router.js';
import { LocalMemberHosts } from './groups/member-hosts.js';
import { InstanceManager } from './instances/instance-manager.js';
import { Invoker } from './invocations/invoker.js';
import { createModuleInspector } from './registry/module-inspector.js';
import { Registry, type ModuleInspector } from './registry/registry.js';
import type { RouteGatewayRequest } from './runtime/protocol.js';
import { StatelessPool } from './runtime/stateless-pool.js';
import { systemClock, type Clock } from './common/clock.js';
import { CallbackSender } from './invocations/callback-sender.js';
import { Dispatcher } from './invocations/dispatcher.js';
import type { Dispatch } from './invocations/dispatch.js';
import type { InvocationRecord } from './store/records.js';
import { JobDispatcher } from './invocations/job-dispatcher.js';
import { routeGatewayRequest } from './invocations/gateway-router.js';
import { InvocationEvents } from './invocations/invocation-events.js';
import { Invocations } from './invocations/invocations.js';
import { sharedCallbackSecret } from './invocations/signing-secret.js';
import { BatchCompletion } from './invocations/batch-completion.js';
import { Batches } from './invocations/batches.js';
import { SyncHistory } from './invocations/sync-history.js';
import { Triggers } from './triggers/triggers.js';
import { CronScheduler } from './triggers/cron-scheduler.js';
import { triggerRoutes } from './gateway/trigger-routes.js';
import { TokenTable } from './auth/tokens.js';
import { installAccessGate } from './gateway/access-gate.js';
import { answerClientError, refuseConnect } from './gateway/client-errors.js';
import { envRoutes } from './gateway/env-routes.js';
import { functionLogRoutes } from './gateway/function-log-routes.js';
import { FunctionLogFeed } from './invocations/function-log-feed.js';
import { startLogRelay, type LogRelay } from './invocations/log-relay.js';
import { clusterRoutes } from './gateway/cluster-routes.js';
import { internalRoutes } from './gateway/internal-routes.js';
import { instanceRouting } from './instances/instance-routing.js';
import { MemberNode, SingleNode, type ClusterNode } from './cluster/cluster-node.js';
import { nodeIdOf } from './cluster/node-identity.js';
import { aloneCacheSync, BusCacheSync, type CacheSync, type CachedState } from './cluster/cache-sync.js';
import { ClusterSlots } from './cluster/cluster-slots.js';
import { aloneRelay, startInvocationRelay, type InvocationRelay } from './invocations/invocation-relay.js';
import type { NodeReport } from './store/membership-store.js';
import { registerProtections } from './gateway/protections.js';
import { WispMetrics } from './metrics/wisp-metrics.js';
import { FunctionEnv } from './registry/function-env.js';
import { NodeResources } from './scheduler/node-resources.js';
import { createStores } from './store/create-stores.js';
import type { Stores } from './store/stores.js';

export interface RouteEntry {
  method: string;
  url: string;
}

declare module 'fastify' {
  interface FastifyInstance {
    /** Every route registered, for the test that holds openapi.yaml to them. */
    wispRoutes: RouteEntry[];
    wisp: Services;
  }
}

/** What tests may replace. */
export interface AppOptions {
  clock?: Clock;
}

function createServices(config: Config, stores: Stores, log: (message: string) => void, clock: Clock, inspect: ModuleInspector, callbackSigningSecret: string): Services {
  const scratchDir = join(config.dataDir, 'scratch');
  mkdirSync(scratchDir, { recursive: true });
  // Built below; calls from workers only come once functions run, long after.
  const route: RouteGatewayRequest = (request) => routeGatewayRequest(request, { instances, invoker });
  const pool: StatelessPool = new StatelessPool({
    maxThreads: config.pool.maxThreads,
    minThreads: config.pool.minThreads,
    idleTimeoutMs: config.pool.idleTimeoutMs,
    maxQueue: config.pool.maxQueue,
    defaultMemoryMb: config.functions.defaultMemoryMb,
    worker: {
      moduleCacheEntries: config.pool.moduleCacheEntries,
      moduleCacheBytes: config.pool.moduleCacheMb * 2 ** 20,
      resultBytes: config.limits.resultBytes,
      inputBytes: config.limits.requestBodyBytes,
      logBytes: config.invocations.logBytes,
      memoryCheckIntervalMs: config.functions.memoryCheckIntervalMs,
    },
    routeRequest: route,
    cancelGraceMs: config.invocations.cancelGraceMs,
    // A fault is the blamed function's to see: in the log and the metrics, never on another call.
    onRetire: (notice) => {
      log(`pool thread retired: ${notice.reason}`);
      metrics.threadRetired(notice.culprit?.function ?? null);
    },
  });
  const { blobs } = stores;
  const registry = new Registry({
    store: stores.functions,
    blobs,
    inspect,
    limits: config.functions,
    scratchDir,
    maxUnpackedBytes: config.limits.uploadBytes * 4,
    clock,
    changed: (name) => sync.changed('function', name),
    shared: stores.cluster !== null,
  });
  const resources = new NodeResources({ cpu: config.node.cpu, memory: config.node.memory, custom: { ...config.node.custom } });
  const cluster = clusterNode(config, stores, () => ({ capacity: resources.capacity, allocated: resources.allocated, instances: instances.holding().length }), log);
  const env = new FunctionEnv({ store: stores.env, requireFunction: (name) => void registry.get(name), clock, changed: (fn) => sync.changed('env', fn) });
  const sync = cacheSync(stores, cluster.nodeId, {
    refreshFunction: (name) => registry.refresh(name),
    refreshEnv: () => env.load(),
    refreshTrigger: (id) => triggers.refresh(id),
    reloadAll: async () => {
      await registry.load();
      await env.load();
    },
  }, log);
  const logFeed = new FunctionLogFeed();
  const host: InstanceManager = new InstanceManager({
    nodeId: cluster.nodeId,
    registry,
    blobs,
    store: stores.instances,
    resources,
    defaults: { cpu: config.instances.defaultCpu, memory: config.instances.defaultMemory },
    startTimeoutMs: config.instances.startTimeoutMs,
    warmThreads: config.instances.warmThreads,
    checkpointTimeoutMs: config.instances.checkpointTimeoutMs,
    checkpointBytes: config.instances.checkpointBytes,
    resultBytes: config.limits.resultBytes,
    logBytes: config.invocations.logBytes,
    memoryCheckIntervalMs: config.functions.memoryCheckIntervalMs,
    secrets: (fn) => env.of(fn),
    log,
    routeRequest: route,
    // Synchronous method calls and constructors, with their logs, in the synchronous history.
    record: (call) => invocations.recordCall(call, false),
    logFeed,
    socketBufferBytes: config.instances.socketBufferBytes,
    clock,
  });
  const routing = instanceRouting({
    cluster,
    stores,
    host,
    registry,
    resources,
    defaults: { cpu: config.instances.defaultCpu, memory: config.instances.defaultMemory },
    defaultTimeoutMs: config.functions.defaultTimeoutMs,
    socketFrameBytes: config.instances.socketFrameBytes,
    log,
    groups: { droppedAll: () => groups.dropAll(), tookBack: () => groups.recover(), adoptOrphans: (activeNodes) => groups.adoptOrphans(activeNodes) },
  });
  const instances = routing.router;
  const localMembers = new LocalMemberHosts(cluster.nodeId, host, resources);
  const clusterMembers = routing.peers ? new ClusterMemberHosts({ local: localMembers, cluster, peers: routing.peers, resources, viewAgeMs: config.cluster.heartbeatMs, homeOf: async (group) => (await stores.groups.get(group))?.node ?? null, log }) : null;
  const groups: GroupManager = new GroupManager({
    instances: host,
    hosts: clusterMembers ?? localMembers,
    store: stores.groups,
    log,
    clock,
    ...(clusterMembers ? { elsewhere: (record, detail) => clusterMembers.tellHome(record, detail), loadMember: (id: string) => stores.instances.get(id) } : {}),
  });
  clusterMembers?.watch(
    () => groups.memberNodes(),
    (dead) => groups.nodesDied(dead),
  );
  const groupRouter = new GroupRouter(
    groups,
    stores.groups,
    clusterMembers
      ? {
          self: clusterMembers.self,
          forward: <T>(home: string, action: GroupAction, name: string) => clusterMembers.forward<T>(home, action, name),
          loadMember: (id: string) => stores.instances.get(id),
        }
      : null,
  );
  const memberOps = clusterMembers ? (op: MemberOp) => runMemberOp(op, clusterMembers, localMembers, groups, groupRouter) : null;
  const history = new SyncHistory(config.invocations.syncHistoryMb * 2 ** 20);
  // Each start is a new incarnation: its claims on attempts and slots are its own.
  const incarnation = `${cluster.nodeId}/${randomUUID()}`;
  const slots = stores.cluster ? new ClusterSlots({ store: stores.cluster.slots, owner: incarnation, leaseMs: config.cluster.leaseMs, clock, log }) : undefined;
  const invoker: Invoker = new Invoker({
    registry,
    pool,
    maxDepth: config.invocations.maxDepth,
    record: (call, durable) => {
      metrics.callFinished(call);
      invocations.recordCall(call, durable);
    },
    secrets: (fn) => env.of(fn),
    clock,
    ...(slots ? { slots } : {}),
    logFeed,
  });
  const store = stores.invocations;
  const events = new InvocationEvents();
  const callbackDelivery = {
    maxAttempts: config.invocations.callbacks.maxAttempts,
    backoff: { baseMs: config.invocations.callbacks.backoffMs, maxMs: config.invocations.callbacks.maxBackoffMs },
    timeoutMs: config.invocations.callbacks.timeoutMs,
  };
  const callbacks = new CallbackSender({ store, events, clock, secret: callbackSigningSecret, ...callbackDelivery, log });
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
      metrics.invocationFinished(record);
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
    cancelElsewhere: (id) => relay.cancelElsewhere(id),
  });
  const batches = new Batches({
    store: stores.batches,
    invocations,
    dispatcher,
    events,
    clock,
    maxSize: config.invocations.maxBatchSize,
    completion: new BatchCompletion({ store: stores.batches, events, clock, secret: callbackSigningSecret, ...callbackDelivery, log }),
    retentionMs: config.invocations.retentionMs,
    log,
  });
  let relay: InvocationRelay = aloneRelay;
  let logRelay: LogRelay | undefined;
  const stopRelay = () => logRelay?.close();
  const startRelay = async () => {
    if (!stores.cluster) return;
    relay = await startInvocationRelay({ bus: stores.cluster.bus, nodeId: cluster.nodeId, events, store, dispatcher, log });
    logRelay = await startLogRelay({ bus: stores.cluster.bus, nodeId: cluster.nodeId, feed: logFeed, now: () => clock.now(), log });
  };
  const triggerStore = stores.triggers;
  const cron = new CronScheduler({ store: triggerStore, invocations, clock, log });
  const triggers: Triggers = new Triggers({
    store: triggerStore,
    registry,
    invocations,
    cron,
    rotationOverlapMs: config.triggers.rotationOverlapMs,
    now: () => clock.now(),
    changed: (id) => sync.changed('trigger', id),
  });
  const metrics: WispMetrics = new WispMetrics({
    inFlight: () => invoker.inFlight,
    poolTiers: () => pool.stats(),
    instancesRunning: () => instances.holding().length,
    allocated: () => resources.allocated,
    capacity: () => resources.capacity,
  });
  return { config, registry, env, pool, invoker, invocations, batches, logFeed, instances, host, routing, groups: groupRouter, groupHost: groups, memberOps, resources, triggers, metrics, cluster, sync, startRelay, stopRelay };
}

/** The node id of a single Wisp (cluster mode names its nodes). */
const LOCAL_NODE = 'local';

function cacheSync(stores: Stores, nodeId: string, state: CachedState, log: (message: string) => void): CacheSync {
  return stores.cluster === null ? aloneCacheSync : new BusCacheSync(stores.cluster.bus, nodeId, state, log);
}

/** A member of a cluster when the store is one several nodes share (Redis), else a cluster of one. */
function clusterNode(config: Config, stores: Stores, report: () => Omit<NodeReport, 'address'>, log: (message: string) => void): ClusterNode {
  if (stores.cluster === null) return new SingleNode(LOCAL_NODE, () => ({ ...report(), address: null }));
  return new MemberNode({ ...config.cluster, dataDir: config.dataDir, store: stores.cluster.membership, nodeId: nodeIdOf({ ...config.cluster, port: config.port, dataDir: config.dataDir }), report, log });
}

export async function buildApp(config: Config, options: AppOptions = {}): Promise<FastifyInstance> {
  const app = Fastify({
    logger: { level: config.logLevel },
    // Per-request log lines would cost more than the rest of the hot path; errors are logged.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: config.limits.requestBodyBytes,
    // Node checks its timeouts every connectionsCheckingInterval (30 s by default): a slowloris
    // connection would outlive headersTimeoutMs by that much.
    http: {
      maxHeaderSize: config.limits.headerBytes,
      headersTimeout: config.limits.headersTimeoutMs,
      connectionsCheckingInterval: Math.min(1000, config.limits.headersTimeoutMs),
    },
    requestTimeout: config.limits.requestTimeoutMs,
    keepAliveTimeout: config.limits.keepAliveTimeoutMs,
    clientErrorHandler: answerClientError,
    // shutdown.ts answers requests that come in while Wisp drains, as problem details.
    return503OnClosing: false,
    // Group names may be 128 characters; find-my-way's default of 100 would refuse valid ones.
    routerOptions: ROUTER_OPTIONS,
    // URLs the router cannot take apart (bad percent-encoding, an overlong segment).
    frameworkErrors: answerFrameworkError,
    schemaController,
  });
  app.server.on('connect', refuseConnect);
  const routes: RouteEntry[] = [];
  const allowed = new AllowedMethods();
  app.decorate('wispRoutes', routes);
  app.addHook('onRoute', (route) => {
    for (const method of [route.method].flat()) {
      routes.push({ method, url: route.url });
      allowed.add(method, route.url);
    }
  });

  // Deploy-time load checks run in child processes; closing kills those still running.
  const inspector = createModuleInspector({ memoryMb: config.functions.defaultMemoryMb, timeoutMs: config.functions.loadTimeoutMs });
  // The data dir holds secrets (function env, webhook and callback secrets): owner-only.
  mkdirSync(config.dataDir, { recursive: true, mode: 0o700 });
  chmodSync(config.dataDir, 0o700);
  let stores: Stores;
  try {
    stores = await createStores(config, (message) => app.log.warn(message));
  } catch (err) {
    inspector.close();
    throw err;
  }
  let signing: string;
  try {
    signing = await sharedCallbackSecret(config.invocations.callbacks.secret, config.dataDir, stores.cluster?.membership ?? null);
  } catch (err) {
    inspector.close();
    await stores.close();
    throw err;
  }
  const services = createServices(config, stores, (message) => app.log.warn(message), options.clock ?? systemClock, inspector, signing);
  app.decorate('wisp', services);
  const waitMs = await services.cluster.join();
  // Functions and secrets first: recovered instances and invocations read them as they start.
  // Listening before loading: a change made meanwhile on another node is not missed.
  await services.sync.start();
  await services.startRelay();
  await services.registry.load();
  await services.env.load();
  await services.routing.recover(waitMs);
  await services.groupHost.recover();
  await services.invocations.recover();
  await services.batches.recover();
  await services.triggers.recover();
  app.addHook('onClose', async () => {
    inspector.close();
    services.stopRelay();
    services.triggers.close();
    // The queue stops taking work first; attempts already running finish while the pool closes.
    await services.invocations.close();
    await services.batches.close();
    await services.groupHost.close();
    await services.host.close();
    await services.routing.close();
    await services.pool.close();
    // Its instances are checkpointed and stopped: peers may take them now.
    await services.cluster.close();
    // Attempts that ended while the pool closed may have their state changes waiting to
    // commit: the backend stores them before it closes.
    await stores.close();
  });

  // First: its hook marks upgrade requests, so that one refused by any later hook (the access
  // gate's, too) has its socket closed after the answer rather than left open.
  await registerWebSockets(app, config);
  // Before any route, so that every route gets an access rule and passes the gate.
  installAccessGate(app, {
    tokens: new TokenTable(config.auth.tokens),
    metricsOpen: config.auth.metricsOpen,
    isPublicFunction: (name) => services.registry.isPublic(name),
  });
  installProblemHandlers(app, allowed);
  await registerProtections(app, config);
  await app.register(docsRoutes);
  await app.register(uiRoutes);
  await app.register(systemRoutes, services);
  await app.register(functionRoutes, services);
  await app.register(invokeRoutes, services);
  await app.register(invocationRoutes, services);
  await app.register(batchRoutes, services);
  await app.register(functionLogRoutes, services);
  await app.register(rawHttpRoutes, services);
  await app.register(instanceRoutes, services);
  await app.register(instanceSocketRoutes, services);
  await app.register(groupRoutes, services);
  await app.register(triggerRoutes, services);
  await app.register(envRoutes, services);
  await app.register(clusterRoutes, services);
  await app.register(internalRoutes, services);
  return app;
}
