// Builds the Wisp application: store, registry, pool and the gateway's route plugins, wired
// together (app/ holds the factory of each subsystem). main.ts listens with it; tests use
// app.inject().
import { chmodSync, mkdirSync } from 'node:fs';
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
import { createModuleInspector } from './registry/module-inspector.js';
import type { ModuleInspector } from './registry/registry.js';
import type { RouteGatewayRequest } from './runtime/protocol.js';
import { systemClock, type Clock } from './common/clock.js';
import { routeGatewayRequest } from './invocations/gateway-router.js';
import { sharedCallbackSecret } from './invocations/signing-secret.js';
import { triggerRoutes } from './gateway/trigger-routes.js';
import { TokenTable } from './auth/tokens.js';
import { installAccessGate } from './gateway/access-gate.js';
import { answerClientError, refuseConnect } from './gateway/client-errors.js';
import { envRoutes } from './gateway/env-routes.js';
import { functionLogRoutes } from './gateway/function-log-routes.js';
import { FunctionLogFeed } from './invocations/function-log-feed.js';
import { clusterRoutes } from './gateway/cluster-routes.js';
import { internalRoutes } from './gateway/internal-routes.js';
import { registerProtections } from './gateway/protections.js';
import { WispMetrics } from './metrics/wisp-metrics.js';
import { FunctionEnv } from './registry/function-env.js';
import { createStores } from './store/create-stores.js';
import type { Stores } from './store/stores.js';
import type { AppContext } from './app/context.js';
import { createFunctions } from './app/functions.js';
import { cacheSync, createNode } from './app/node.js';
import { createInstances } from './app/instances.js';
import { createGroups } from './app/groups.js';
import { createInvocations } from './app/invocations.js';
import { createTriggers } from './app/triggers.js';

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

/**
 * Builds the subsystems, in this order; each that takes more than a line has its factory in app/.
 * What one is handed of another built after it is passed as a function, called only once Wisp runs.
 */
function createServices(config: Config, stores: Stores, log: (message: string) => void, clock: Clock, inspect: ModuleInspector, callbackSigningSecret: string): Services {
  const ctx: AppContext = { config, stores, log, clock };
  // Built below; calls from workers only come once functions run, long after.
  const route: RouteGatewayRequest = (request) => routeGatewayRequest(request, { instances, invoker });
  const { pool, registry } = createFunctions(ctx, { inspect, route, changed: (name) => sync.changed('function', name), threadRetired: (fn) => metrics.threadRetired(fn) });
  const { resources, cluster } = createNode(ctx, () => instances.holding().length);
  const env = new FunctionEnv({ store: stores.env, requireFunction: (name) => void registry.get(name), clock, changed: (fn) => sync.changed('env', fn) });
  const sync = cacheSync(ctx, cluster.nodeId, { registry, env, triggers: () => triggers });
  const logFeed = new FunctionLogFeed();
  const { host, routing } = createInstances(ctx, { cluster, registry, resources, env, logFeed, route, recordCall: (call) => invocations.recordCall(call, false), groups: () => groupHost });
  const instances = routing.router;
  const { groupHost, groups, memberOps } = createGroups(ctx, { cluster, host, resources, peers: routing.peers });
  const { invoker, invocations, batches, startRelay, stopRelay } = createInvocations(ctx, { cluster, pool, registry, env, instances, logFeed, callbackSigningSecret, metrics: () => metrics });
  const triggers = createTriggers(ctx, { registry, invocations, changed: (id) => sync.changed('trigger', id) });
  const metrics: WispMetrics = new WispMetrics({
    inFlight: () => invoker.inFlight,
    poolTiers: () => pool.stats(),
    instancesRunning: () => instances.holding().length,
    allocated: () => resources.allocated,
    capacity: () => resources.capacity,
  });
  return { config, registry, env, pool, invoker, invocations, batches, logFeed, instances, host, routing, groups, groupHost, memberOps, resources, triggers, metrics, cluster, sync, startRelay, stopRelay };
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
