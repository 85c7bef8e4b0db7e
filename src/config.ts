// The one place that reads configuration: config/default.json, then an optional file named by
// WISP_CONFIG, then WISP_* environment variables, then overrides from the caller (tests).
// The result is validated against a schema and frozen; everything else receives it as an argument.
import { readFileSync } from 'node:fs';
import { isLoopbackHost, parseTokenList, TokenListError, type TokenEntry } from './auth/tokens.js';
import { availableParallelism, totalmem } from 'node:os';
import { fileURLToPath } from 'node:url';
import { resolve } from 'node:path';
import { Ajv } from 'ajv';
import { gatewayHeadroomMb } from './scheduler/node-resources.js';

export interface Config {
  readonly host: string;
  readonly port: number;
  readonly dataDir: string;
  readonly store: {
    /**
     * A Redis URL (redis:// or rediss://) to keep every record and blob in Redis, which cluster
     * mode needs; null keeps them in the data dir (SQLite and files), with no service to run.
     */
    readonly redisUrl: string | null;
    /** What every key starts with, so that several Wisps (or test runs) can share one server. */
    readonly redisPrefix: string;
  };
  /**
   * Cluster mode, which a Redis store (store.redisUrl) turns on: several symmetric nodes over one
   * Redis (design §5).
   */
  readonly cluster: {
    /** This node's id (WISP_NODE_ID); null: hostname-port, or one kept in the data dir when the port is 0. */
    readonly nodeId: string | null;
    /** The URL peers reach this node at (WISP_ADVERTISE_URL); null: http://host:port as it listens. */
    readonly advertiseUrl: string | null;
    /** Authenticates the nodes' internal routes (WISP_CLUSTER_SECRET); null: made by the first node and shared through Redis. */
    readonly secret: string | null;
    readonly heartbeatMs: number;
    /** How long a renewal of a node's lease holds; a node that cannot renew within it fences itself. */
    readonly leaseMs: number;
    /** How long after a lease ends a node is declared dead and its instances moved. */
    readonly deadMarginMs: number;
  };
  readonly logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  readonly auth: {
    /** Bearer tokens, by the sha256 of the token: the file never holds a token itself. */
    readonly tokens: readonly TokenEntry[];
    /** Whether GET /metrics answers without a token (for a scraper on a trusted network). */
    readonly metricsOpen: boolean;
  };
  readonly limits: {
    readonly uploadBytes: number;
    readonly requestBodyBytes: number;
    /** A batch's body (POST /v1/functions/{name}/batches): its inputs together. */
    readonly batchBodyBytes: number;
    readonly resultBytes: number;
    /** All request headers together (Node's maxHeaderSize); more is 431. */
    readonly headerBytes: number;
    /** How long a client may take to send its headers; a slowloris connection is cut at this. */
    readonly headersTimeoutMs: number;
    /** How long a client may take to send its whole request (not how long the answer may take). */
    readonly requestTimeoutMs: number;
    /** How long an idle keep-alive connection is held open. */
    readonly keepAliveTimeoutMs: number;
    /** Requests per token (or per client address without one) in each window; null: no limit. */
    readonly rateLimit: { readonly max: number; readonly windowMs: number } | null;
  };
  /** Load shedding: past any of these, new requests get 503 with Retry-After. null: not watched. */
  readonly pressure: {
    readonly maxEventLoopDelayMs: number | null;
    readonly maxHeapUsedBytes: number | null;
    readonly maxRssBytes: number | null;
    readonly retryAfterSeconds: number;
  };
  readonly shutdown: {
    /** How long in-flight requests may take to finish after SIGTERM before they are cut off. */
    readonly graceMs: number;
  };
  readonly functions: {
    readonly defaultTimeoutMs: number;
    readonly maxTimeoutMs: number;
    readonly defaultMemoryMb: number;
    readonly maxMemoryMb: number;
    readonly defaultConcurrency: number;
    readonly loadTimeoutMs: number;
    /** How often a worker checks its Buffer (off-heap) memory against the function's memoryMb. */
    readonly memoryCheckIntervalMs: number;
  };
  readonly pool: {
    /** Threads per memory tier; null in the file means one per core. */
    readonly maxThreads: number;
    readonly minThreads: number;
    readonly idleTimeoutMs: number;
    readonly maxQueue: number;
    readonly moduleCacheEntries: number;
    readonly moduleCacheMb: number;
  };
  /** What this node offers instances; null in the file means what the machine has (memory: less the gateway's headroom). */
  readonly node: {
    /** Millicores. */
    readonly cpu: number;
    /** MiB. */
    readonly memory: number;
    /** Operator-declared resources, e.g. {"ssd": 1}. */
    readonly custom: Readonly<Record<string, number>>;
  };
  readonly instances: {
    readonly defaultCpu: number;
    readonly defaultMemory: number;
    /** Bounds a constructor or a restore, which run before the function's own timeout applies. */
    readonly startTimeoutMs: number;
    readonly checkpointTimeoutMs: number;
    /** The most a checkpoint may hold; each instance's limit is also at most a quarter of its memory. */
    readonly checkpointBytes: number;
    /** The largest WebSocket frame a client may send an instance; a larger one closes the socket with 1009. */
    readonly socketFrameBytes: number;
    /** What may wait to be written to one client's WebSocket before it is closed as too slow (4008). */
    readonly socketBufferBytes: number;
    /** The most booted, empty threads kept ready so that creates skip the boot (each ~7 MB of RSS idle); 0 keeps none. */
    readonly warmThreads: number;
  };
  readonly invocations: {
    /** Asynchronous invocations running at once; null in the file means two per pool thread. */
    readonly maxRunning: number;
    /** How deep ctx.invoke() calls may nest. */
    readonly maxDepth: number;
    readonly maxBackoffMs: number;
    /** How long final asynchronous records (and their logs) are kept. */
    readonly retentionMs: number;
    /** Memory for the records of synchronous and nested calls. */
    readonly syncHistoryMb: number;
    /** console.* output kept per invocation. */
    readonly logBytes: number;
    /** How long a cancelled running invocation may take to stop before its thread is terminated. */
    readonly cancelGraceMs: number;
    /** The longest ?wait= a GET may ask for. */
    readonly maxWaitSeconds: number;
    /** The most inputs one batch may have. */
    readonly maxBatchSize: number;
    /**
     * How long a claim on an attempt holds without renewal (renewed every third of it). An
     * attempt whose node stops renewing is taken back and run again after this.
     */
    readonly leaseMs: number;
    readonly callbacks: {
      /** Standard Webhooks secret (`whsec_` + base64); null: generated once, kept in the data dir. */
      readonly secret: string | null;
      readonly maxAttempts: number;
      readonly backoffMs: number;
      readonly maxBackoffMs: number;
      readonly timeoutMs: number;
    };
  };
  readonly triggers: {
    /** How long a webhook secret stays accepted after it is rotated out. */
    readonly rotationOverlapMs: number;
  };
}

export type ConfigOverrides = {
  [K in keyof Config]?: Config[K] extends object ? Partial<Config[K]> : Config[K];
};

const DEFAULT_FILE = fileURLToPath(new URL('../config/default.json', import.meta.url));

const positiveInt = { type: 'integer', minimum: 1 } as const;
/** null in the file means "what this machine has" (worked out in loadConfig). */
const positiveIntOrNull = { anyOf: [positiveInt, { type: 'null' }] } as const;

/** An object with exactly these keys, each required: every section of the config is one. */
const section = (properties: Record<string, object>) => ({
  type: 'object',
  additionalProperties: false,
  required: Object.keys(properties),
  properties,
});

const schema = section({
  host: { type: 'string', minLength: 1 },
  port: { type: 'integer', minimum: 0, maximum: 65535 },
  dataDir: { type: 'string', minLength: 1 },
  store: section({
    redisUrl: { anyOf: [{ type: 'string', pattern: '^rediss?://' }, { type: 'null' }] },
    redisPrefix: { type: 'string', maxLength: 64 },
  }),
  cluster: section({
    nodeId: { anyOf: [{ type: 'string', pattern: '^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$' }, { type: 'null' }] },
    advertiseUrl: { anyOf: [{ type: 'string', pattern: '^https?://[^/]+/?$' }, { type: 'null' }] },
    secret: { anyOf: [{ type: 'string', minLength: 16 }, { type: 'null' }] },
    heartbeatMs: { type: 'integer', minimum: 10 },
    leaseMs: { type: 'integer', minimum: 30 },
    deadMarginMs: { type: 'integer', minimum: 0 },
  }),
  logLevel: { enum: ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] },
  auth: section({
    tokens: {
      type: 'array',
      items: section({
        name: { type: 'string', minLength: 1 },
        scope: { enum: ['admin', 'deploy', 'invoke'] },
        sha256: { type: 'string', pattern: '^[0-9a-f]{64}$' },
      }),
    },
    metricsOpen: { type: 'boolean' },
  }),
  limits: section({
    uploadBytes: positiveInt,
    requestBodyBytes: positiveInt,
    batchBodyBytes: positiveInt,
    resultBytes: positiveInt,
    headerBytes: { type: 'integer', minimum: 1024 },
    headersTimeoutMs: positiveInt,
    requestTimeoutMs: positiveInt,
    keepAliveTimeoutMs: positiveInt,
    rateLimit: { anyOf: [section({ max: positiveInt, windowMs: positiveInt }), { type: 'null' }] },
  }),
  pressure: section({
    maxEventLoopDelayMs: positiveIntOrNull,
    maxHeapUsedBytes: positiveIntOrNull,
    maxRssBytes: positiveIntOrNull,
    retryAfterSeconds: positiveInt,
  }),
  shutdown: section({ graceMs: { type: 'integer', minimum: 0 } }),
  functions: section({
    defaultTimeoutMs: positiveInt,
    maxTimeoutMs: positiveInt,
    defaultMemoryMb: { type: 'integer', minimum: 16 },
    maxMemoryMb: { type: 'integer', minimum: 16 },
    defaultConcurrency: positiveInt,
    loadTimeoutMs: positiveInt,
    memoryCheckIntervalMs: positiveInt,
  }),
  pool: section({
    maxThreads: positiveIntOrNull,
    minThreads: { type: 'integer', minimum: 0 },
    idleTimeoutMs: positiveInt,
    maxQueue: positiveInt,
    moduleCacheEntries: positiveInt,
    moduleCacheMb: positiveInt,
  }),
  node: section({
    cpu: positiveIntOrNull,
    memory: positiveIntOrNull,
    custom: { type: 'object', additionalProperties: { type: 'number', minimum: 0 } },
  }),
  instances: section({
    defaultCpu: { type: 'integer', minimum: 0 },
    defaultMemory: { type: 'integer', minimum: 16 },
    startTimeoutMs: positiveInt,
    checkpointTimeoutMs: positiveInt,
    checkpointBytes: positiveInt,
    socketFrameBytes: positiveInt,
    socketBufferBytes: positiveInt,
    warmThreads: { type: 'integer', minimum: 0, maximum: 256 },
  }),
  invocations: section({
    maxRunning: positiveIntOrNull,
    maxDepth: positiveInt,
    maxBackoffMs: positiveInt,
    retentionMs: positiveInt,
    syncHistoryMb: positiveInt,
    logBytes: positiveInt,
    cancelGraceMs: positiveInt,
    maxWaitSeconds: positiveInt,
    maxBatchSize: positiveInt,
    leaseMs: { type: 'integer', minimum: 1000 },
    callbacks: section({
      secret: { anyOf: [{ type: 'string', pattern: '^whsec_[A-Za-z0-9+/]{16,}={0,2}$' }, { type: 'null' }] },
      maxAttempts: positiveInt,
      backoffMs: positiveInt,
      maxBackoffMs: positiveInt,
      timeoutMs: positiveInt,
    }),
  }),
  triggers: section({ rotationOverlapMs: { type: 'integer', minimum: 0 } }),
});

const validate = new Ajv({ allErrors: true }).compile(schema);

export class ConfigError extends Error {
  override name = 'ConfigError';
}

function readJson(file: string): Record<string, unknown> {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
  } catch (err) {
    throw new ConfigError(`cannot read config file ${file}: ${(err as Error).message}`);
  }
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function merge(base: Record<string, unknown>, extra: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(extra)) {
    if (value === undefined) continue;
    const current = out[key];
    out[key] = isPlainObject(current) && isPlainObject(value) ? merge(current, value) : value;
  }
  return out;
}

function intFromEnv(name: string, raw: string | undefined): number | undefined {
  if (raw === undefined || raw === '') return undefined;
  if (!/^\d+$/.test(raw)) throw new ConfigError(`${name} must be a whole number, got "${raw}"`);
  return Number(raw);
}

function fromEnv(env: NodeJS.ProcessEnv): Record<string, unknown> {
  return {
    host: env.WISP_HOST || undefined,
    port: intFromEnv('WISP_PORT', env.WISP_PORT),
    dataDir: env.WISP_DATA_DIR || undefined,
    store: env.WISP_REDIS_URL || env.WISP_REDIS_PREFIX ? { redisUrl: env.WISP_REDIS_URL || undefined, redisPrefix: env.WISP_REDIS_PREFIX || undefined } : undefined,
    cluster: { nodeId: env.WISP_NODE_ID || undefined, advertiseUrl: env.WISP_ADVERTISE_URL || undefined, secret: env.WISP_CLUSTER_SECRET || undefined },
    logLevel: env.WISP_LOG_LEVEL || undefined,
  };
}

function deepFreeze<T>(value: T): T {
  if (isPlainObject(value)) {
    for (const inner of Object.values(value)) deepFreeze(inner);
    Object.freeze(value);
  }
  return value;
}

/** The environment the gateway process starts with: this one's, where its WISP_* settings are. */
export function gatewayEnvironment(): NodeJS.ProcessEnv {
  return { ...process.env };
}

export function loadConfig(options: { env?: NodeJS.ProcessEnv; overrides?: ConfigOverrides } = {}): Config {
  const env = options.env ?? process.env;
  let raw = readJson(DEFAULT_FILE);
  if (env.WISP_CONFIG) raw = merge(raw, readJson(env.WISP_CONFIG));
  raw = merge(raw, fromEnv(env));
  raw = merge(raw, (options.overrides ?? {}) as Record<string, unknown>);
  if (!validate(raw)) {
    const problems = (validate.errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message}`).join('; ');
    throw new ConfigError(`invalid configuration: ${problems}`);
  }
  const auth = raw.auth as { tokens: TokenEntry[] };
  try {
    auth.tokens = [...auth.tokens, ...parseTokenList(env.WISP_TOKENS ?? '')];
  } catch (err) {
    if (err instanceof TokenListError) throw new ConfigError(err.message);
    throw err;
  }
  if (auth.tokens.length === 0 && !isLoopbackHost(raw.host as string)) {
    throw new ConfigError(
      `refusing to listen on ${String(raw.host)} with no tokens: anyone who can reach it could deploy and run code. ` +
        'Make a token with `npm run token -- admin` and pass it as WISP_TOKENS=<token>:admin (or put its sha256 in auth.tokens of the config file), ' +
        'or listen on 127.0.0.1.',
    );
  }
  const limits = raw.limits as { headersTimeoutMs: number; requestTimeoutMs: number };
  if (limits.headersTimeoutMs > limits.requestTimeoutMs) {
    throw new ConfigError(`limits.headersTimeoutMs (${limits.headersTimeoutMs}) must not be more than limits.requestTimeoutMs (${limits.requestTimeoutMs}): the headers are part of the request`);
  }
  const cluster = raw.cluster as { heartbeatMs: number; leaseMs: number };
  if (cluster.leaseMs < 2 * cluster.heartbeatMs) {
    throw new ConfigError(`cluster.leaseMs (${cluster.leaseMs}) must be at least twice cluster.heartbeatMs (${cluster.heartbeatMs}): one late heartbeat must not fence a node`);
  }
  const pool = raw.pool as Record<string, unknown>;
  // Above the core count: one task per thread (see running-slots.ts), so a thread stuck in one
  // function's loop must not leave the next call waiting while a thread could be started.
  if (pool.maxThreads === null) pool.maxThreads = Math.max(4, 2 * availableParallelism());
  const invocations = raw.invocations as Record<string, unknown>;
  if (invocations.maxRunning === null) invocations.maxRunning = (pool.maxThreads as number) * 2;
  const node = raw.node as Record<string, unknown>;
  if (node.cpu === null) node.cpu = availableParallelism() * 1000;
  if (node.memory === null) {
    const totalMb = Math.floor(totalmem() / 2 ** 20);
    node.memory = totalMb - gatewayHeadroomMb(totalMb);
  }
  raw.dataDir = resolve(raw.dataDir as string);
  return deepFreeze(raw) as unknown as Config;
}
