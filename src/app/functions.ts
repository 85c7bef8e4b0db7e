// The functions: the registry that holds their code, and the pool of threads that runs their
// stateless calls.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { Registry, type ModuleInspector } from '../registry/registry.js';
import type { RouteGatewayRequest } from '../runtime/protocol.js';
import { StatelessPool } from '../runtime/stateless-pool.js';
import type { AppContext } from './context.js';

export interface FunctionsWiring {
  /** Runs deploy-time load checks (see registry/module-inspector.ts). */
  inspect: ModuleInspector;
  /** Serves the calls functions make through their ctx (see invocations/gateway-router.ts). */
  route: RouteGatewayRequest;
  /** A function changed here: the other nodes are told (see cluster/cache-sync.ts). */
  changed: (name: string) => void;
  /** A pool thread was retired, blaming this function (null: none to blame). */
  threadRetired: (fn: string | null) => void;
}

export function createFunctions(ctx: AppContext, o: FunctionsWiring): { pool: StatelessPool; registry: Registry } {
  const { config, stores, clock, log } = ctx;
  const scratchDir = join(config.dataDir, 'scratch');
  mkdirSync(scratchDir, { recursive: true });
  const pool = new StatelessPool({
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
    routeRequest: o.route,
    cancelGraceMs: config.invocations.cancelGraceMs,
    // A fault is the blamed function's to see: in the log and the metrics, never on another call.
    onRetire: (notice) => {
      log(`pool thread retired: ${notice.reason}`);
      o.threadRetired(notice.culprit?.function ?? null);
    },
  });
  const registry = new Registry({
    store: stores.functions,
    blobs: stores.blobs,
    inspect: o.inspect,
    limits: config.functions,
    scratchDir,
    maxUnpackedBytes: config.limits.uploadBytes * 4,
    clock,
    changed: o.changed,
    shared: stores.cluster !== null,
  });
  return { pool, registry };
}
