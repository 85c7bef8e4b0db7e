// A cluster on this machine for one test: a real redis-server and N Wisp processes on free
// loopback ports, each with its own data dir and node id, on short leases so that failover
// happens within a test. Resolves once every node is listed as active, with its address, by
// GET /v1/cluster. Nodes can be killed, paused and started again.
import type { Test } from 'tap';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { send, startWispProcess, type WispProcess } from './process.js';
import { startRedis, type RedisServer } from './redis.js';
import { tempDir } from './temp-dir.js';

export const FAST_CLUSTER = { heartbeatMs: 100, leaseMs: 800, deadMarginMs: 300 };

export interface ClusterNodeProcess {
  id: string;
  dataDir: string;
  process: WispProcess;
  url: string;
}

export interface TestCluster {
  redis: RedisServer;
  /** The key prefix the nodes share in Redis. */
  prefix: string;
  nodes: ClusterNodeProcess[];
  /** Starts node `index` again (after a kill), on a new port, same id and data dir. */
  restart(index: number): Promise<ClusterNodeProcess>;
}

/** Resolves once `check` passes: a cluster changes as its heartbeats go, which a test waits on. */
export async function until<T>(check: () => Promise<T | undefined | false>, pollMs = 25): Promise<T> {
  for (;;) {
    const value = await check();
    if (value) return value;
    await new Promise((resolve) => setTimeout(resolve, pollMs));
  }
}

export async function startCluster(t: Test, size: number, options: { env?: Record<string, string>; timing?: typeof FAST_CLUSTER; config?: Record<string, unknown> } = {}): Promise<TestCluster | undefined> {
  const redis = await startRedis(t);
  if (!redis) return undefined;
  const config = join(tempDir(), 'cluster.json');
  writeFileSync(config, JSON.stringify({ ...options.config, cluster: options.timing ?? FAST_CLUSTER }));
  const prefix = `cluster-${process.pid}-${Date.now()}:`;
  const start = async (id: string, dataDir: string): Promise<ClusterNodeProcess> => {
    const process = await startWispProcess(dataDir, { WISP_REDIS_URL: redis.url, WISP_REDIS_PREFIX: prefix, WISP_NODE_ID: id, WISP_CONFIG: config, ...options.env });
    t.teardown(() => void process.child.kill('SIGKILL'));
    return { id, dataDir, process, url: process.url };
  };
  const nodes = await Promise.all(Array.from({ length: size }, (_, i) => start(`node-${i + 1}`, tempDir())));
  await untilListed(nodes);
  return {
    redis,
    prefix,
    nodes,
    restart: async (index) => {
      const node = nodes[index]!;
      nodes[index] = await start(node.id, node.dataDir);
      await untilListed(nodes.filter((n) => n.process.child.exitCode === null && n.process.child.signalCode === null));
      return nodes[index]!;
    },
  };
}

/** Until the first node lists all of these as active, each at its address. */
async function untilListed(nodes: ClusterNodeProcess[]): Promise<void> {
  await until(async () => {
    const { status, json } = await send(nodes[0]!.url, 'GET', '/v1/cluster');
    // A node still starting (or shedding load as its peers boot) answers 503: ask again.
    if (status !== 200) return false;
    const listed = new Map((json.nodes as { id: string; state: string; address: string | null }[]).map((n) => [n.id, n]));
    return nodes.every((node) => listed.get(node.id)?.state === 'active' && listed.get(node.id)?.address === node.url);
  });
}
