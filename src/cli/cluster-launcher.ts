// `wisp cluster up` (design §5.8, lazycluster's launcher): a private redis-server unless one is
// given, N Wisp nodes (each under its supervisor, in its own process group, logging to a file)
// on the ports chosen, and a wait until every node is ready and GET /v1/cluster lists all of
// them. Whatever fails on the way, every process it started is stopped before it says why.
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, openSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { CliError, EXIT } from './cli-error.js';
import { alive, lastLines, processStart, readState, running, stopProcess, writeState, type ClusterState, type LaunchedNode } from './cluster-state.js';
import { anyFreePort, choosePorts, type PortChoice } from './ports.js';

const NODE_MAIN = fileURLToPath(new URL('../main.js', import.meta.url));

export interface UpOptions {
  nodes: number;
  /** A Redis to use; none: the launcher starts one. */
  redisUrl: string | null;
  ports: PortChoice;
  timeoutSeconds: number;
  dataDir: string;
  /** Progress, one line at a time (to stderr). */
  progress: (line: string) => void;
  /** The token the nodes' admin routes take, if they are given WISP_TOKENS. */
  token: string | undefined;
}

export async function clusterUp(o: UpOptions): Promise<ClusterState> {
  const dataDir = resolve(o.dataDir);
  refuseRunning(dataDir);
  mkdirSync(dataDir, { recursive: true });
  const started: number[] = [];
  const deadline = Date.now() + o.timeoutSeconds * 1000;
  // Interrupted while it starts (Ctrl-C): nothing it started is left behind.
  const interrupted = (signal: NodeJS.Signals) => {
    void Promise.all(started.map((pid) => stopProcess(pid, 5000))).then(() => process.exit(signal === 'SIGINT' ? 130 : 143));
  };
  process.once('SIGINT', interrupted);
  process.once('SIGTERM', interrupted);
  try {
    const redis = o.redisUrl === null ? await startRedis(dataDir, deadline, started, o.progress) : { url: o.redisUrl, pid: null, start: null, log: null, port: null };
    const ports = await choosePorts(o.ports, o.nodes, redis.port === null ? [] : [redis.port]);
    const nodes = ports.map((port, i) => startNode(`node-${i + 1}`, port, dataDir, redis.url, started));
    o.progress(`starting ${o.nodes} node${o.nodes === 1 ? '' : 's'} on ports ${ports.join(', ')}`);
    await untilListed(nodes, deadline, o.token, o.progress);
    const state: ClusterState = { startedAt: new Date().toISOString(), redis: { url: redis.url, pid: redis.pid, start: redis.start, log: redis.log }, nodes };
    writeState(dataDir, state);
    return state;
  } catch (err) {
    await Promise.all(started.map((pid) => stopProcess(pid, 5000)));
    throw err;
  } finally {
    process.off('SIGINT', interrupted);
    process.off('SIGTERM', interrupted);
  }
}

function refuseRunning(dataDir: string): void {
  let state: ClusterState;
  try {
    state = readState(dataDir);
  } catch {
    return;
  }
  if (state.nodes.some((node) => running(node.pid, node.start)) || (state.redis.pid !== null && running(state.redis.pid, state.redis.start))) {
    throw new CliError('CLUSTER_RUNNING', `a cluster started from ${dataDir} is running (${state.nodes.map((n) => n.url).join(', ')}, Redis at ${state.redis.url}); stop it first with: wisp cluster down --data ${dataDir}`, EXIT.notStarted);
  }
}

async function startRedis(dataDir: string, deadline: number, started: number[], progress: (line: string) => void): Promise<{ url: string; pid: number; start: string | null; log: string; port: number }> {
  if (spawnSync('sh', ['-c', 'command -v redis-server'], { stdio: 'ignore' }).status !== 0) {
    throw new CliError('REDIS_NOT_FOUND', 'redis-server is not installed: install it (apt-get install -y redis-server) or give a running one with --redis redis://HOST:PORT', EXIT.notStarted);
  }
  const port = await anyFreePort();
  const dir = join(dataDir, 'redis');
  mkdirSync(dir, { recursive: true });
  const log = join(dataDir, 'redis.log');
  const out = openSync(log, 'a');
  // The durability Wisp's acknowledgements rest on (design §5): every write fsynced, nothing evicted.
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--appendonly', 'yes', '--appendfsync', 'always', '--maxmemory-policy', 'noeviction', '--save', '', '--daemonize', 'no'];
  const child = spawn('redis-server', args, { detached: true, stdio: ['ignore', out, out] });
  child.unref();
  started.push(child.pid!);
  const url = `redis://127.0.0.1:${port}`;
  progress(`started redis-server on port ${port} (data in ${dir})`);
  const client = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
  client.on('error', () => undefined);
  try {
    for (;;) {
      try {
        await client.connect();
        await client.ping();
        return { url, pid: child.pid!, start: processStart(child.pid!), log, port };
      } catch {
        client.disconnect();
        if (!alive(child.pid!)) throw new CliError('REDIS_EXITED', `redis-server on port ${port} exited before it was ready:\n${lastLines(log)}`, EXIT.notStarted);
        if (Date.now() > deadline) throw new CliError('CLUSTER_START_TIMEOUT', `redis-server on port ${port} was not ready in time; its last log lines:\n${lastLines(log)}`, EXIT.notStarted);
        await new Promise((r) => setTimeout(r, 50));
      }
    }
  } finally {
    client.disconnect();
  }
}

function startNode(id: string, port: number, dataDir: string, redisUrl: string, started: number[]): LaunchedNode {
  const nodeDir = join(dataDir, id);
  mkdirSync(nodeDir, { recursive: true });
  const log = join(dataDir, `${id}.log`);
  const out = openSync(log, 'a');
  const env = { ...process.env, WISP_HOST: '127.0.0.1', WISP_PORT: String(port), WISP_DATA_DIR: nodeDir, WISP_REDIS_URL: redisUrl, WISP_NODE_ID: id };
  const child = spawn(process.execPath, [NODE_MAIN], { detached: true, env, stdio: ['ignore', out, out] });
  child.unref();
  started.push(child.pid!);
  return { id, url: `http://127.0.0.1:${port}`, port, pid: child.pid!, start: processStart(child.pid!), dataDir: nodeDir, log };
}

/** Until every node answers and the cluster lists them all as active at their addresses. */
async function untilListed(nodes: LaunchedNode[], deadline: number, token: string | undefined, progress: (line: string) => void): Promise<void> {
  const ready = new Set<string>();
  const headers: Record<string, string> = token ? { authorization: `Bearer ${token}` } : {};
  for (;;) {
    for (const node of nodes) {
      if (ready.has(node.id)) continue;
      if (!alive(node.pid)) throw new CliError('NODE_EXITED', `node ${node.id} (port ${node.port}) exited before it was ready; its last log lines:\n${lastLines(node.log)}`, EXIT.notStarted);
      try {
        const res = await fetch(`${node.url}/v1/cluster`, { headers, signal: AbortSignal.timeout(1000) });
        if (!res.ok) continue;
        const view = (await res.json()) as { nodes: { id: string; state: string; address: string | null }[] };
        const listed = new Map(view.nodes.map((n) => [n.id, n]));
        if (nodes.every((n) => listed.get(n.id)?.state === 'active' && listed.get(n.id)?.address === n.url)) {
          ready.add(node.id);
          progress(`node ${node.id} is ready at ${node.url}`);
        }
      } catch {
        // Not listening yet.
      }
    }
    if (ready.size === nodes.length) return;
    if (Date.now() > deadline) {
      const late = nodes.find((node) => !ready.has(node.id))!;
      throw new CliError('CLUSTER_START_TIMEOUT', `node ${late.id} (port ${late.port}) was not ready in time; its last log lines:\n${lastLines(late.log) || '(none)'}`, EXIT.notStarted);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}
