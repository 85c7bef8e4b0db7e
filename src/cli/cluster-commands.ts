// `wisp cluster up | status | down`: a local cluster of Wisp nodes over one Redis.
import { type Command, InvalidArgumentError } from 'commander';
import { resolve } from 'node:path';
import { CliError, EXIT } from './cli-error.js';
import { clusterUp } from './cluster-launcher.js';
import { forgetState, readState, running, stopProcess } from './cluster-state.js';
import { parseRange, type PortChoice } from './ports.js';
import type { Output } from './output.js';
import { table } from './table.js';

const DEFAULT_DATA = '.wisp-cluster';

function wholeNumber(name: string, min: number, max: number) {
  return (text: string): number => {
    const value = Number(text);
    if (!/^\d+$/.test(text) || value < min || value > max) throw new InvalidArgumentError(`${name} must be a whole number from ${min} to ${max}`);
    return value;
  };
}

/** What status reads of GET /v1/cluster. */
interface ClusterView {
  nodes: { id: string; state: string; incarnation: number; leaseAgeMs: number; instances: number }[];
}


export function clusterCommands(program: Command, io: () => Output): void {
  const cluster = program.command('cluster').description('start, inspect and stop a local cluster of Wisp nodes over one Redis');

  cluster
    .command('up')
    .description('start a private redis-server (unless --redis is given) and N nodes, wait until every node is ready and lists all the others, and print their URLs')
    .option('--nodes <n>', 'how many nodes', wholeNumber('--nodes', 1, 64), 3)
    .option('--redis <url>', 'a running Redis to use (redis://HOST:PORT) instead of starting one')
    .option('--port <p>', 'the first node\'s port; the others take the next ones (each must be free: PORT_IN_USE)', wholeNumber('--port', 1, 65535))
    .option('--ports <a-b>', 'pick free ports from this range (NO_PORTS_LEFT when it has too few)')
    .option('--timeout <s>', 'seconds to wait for every node to be ready (CLUSTER_START_TIMEOUT)', wholeNumber('--timeout', 1, 3600), 60)
    .option('--data <dir>', 'where the nodes, Redis and the cluster state keep their files', DEFAULT_DATA)
    .addHelpText('after', '\nExample: wisp cluster up --nodes 3 --ports 8080-8099\nThe processes keep running after this command returns; stop them with `wisp cluster down`.')
    .action(async (options: { nodes: number; redis?: string; port?: number; ports?: string; timeout: number; data: string }) => {
      const { out, err, json } = io();
      if (options.port !== undefined && options.ports !== undefined) throw new CliError('INVALID_PORTS', 'give --port or --ports, not both', EXIT.usage);
      if (options.redis !== undefined && !/^rediss?:\/\//.test(options.redis)) throw new CliError('INVALID_REDIS_URL', `--redis must be a redis:// or rediss:// URL, got "${options.redis}"`, EXIT.usage);
      const ports: PortChoice = options.port !== undefined ? { kind: 'first', port: options.port } : options.ports !== undefined ? { kind: 'range', ...parseRange(options.ports) } : { kind: 'any' };
      const state = await clusterUp({ nodes: options.nodes, redisUrl: options.redis ?? null, ports, timeoutSeconds: options.timeout, dataDir: options.data, progress: (line) => err(line), token: process.env.WISP_TOKEN });
      if (json) return out(JSON.stringify(state, null, 2));
      out(`a cluster of ${state.nodes.length} node${state.nodes.length === 1 ? '' : 's'} is up (Redis at ${state.redis.url}):`);
      for (const node of state.nodes) out(`  ${node.id}  ${node.url}`);
      out(`Any node serves any request. Stop them with: wisp cluster down${options.data === DEFAULT_DATA ? '' : ` --data ${options.data}`}`);
    });

  cluster
    .command('status')
    .description('the nodes the launcher started, whether their processes run, and what the cluster says of each')
    .option('--data <dir>', 'the directory given to `wisp cluster up`', DEFAULT_DATA)
    .action(async (options: { data: string }) => {
      const { out, json } = io();
      const state = readState(resolve(options.data));
      const up = state.nodes.filter((node) => running(node.pid, node.start));
      let view = null as ClusterView | null;
      for (const node of up) {
        try {
          const res = await fetch(`${node.url}/v1/cluster`, { headers: process.env.WISP_TOKEN ? { authorization: `Bearer ${process.env.WISP_TOKEN}` } : {}, signal: AbortSignal.timeout(2000) });
          if (res.ok) {
            view = (await res.json()) as ClusterView;
            break;
          }
        } catch {
          // Try the next node.
        }
      }
      if (json) return out(JSON.stringify({ ...state, cluster: view }, null, 2));
      out(`Redis ${state.redis.url}${state.redis.pid === null ? ' (not started by the launcher)' : running(state.redis.pid, state.redis.start) ? '' : ' (its process is gone)'}`);
      const rows = state.nodes.map((node) => {
        const listed = view?.nodes.find((n) => n.id === node.id);
        return [node.id, node.url, running(node.pid, node.start) ? `running (pid ${node.pid})` : 'gone', listed?.state ?? '-', listed?.incarnation ?? '-', listed ? `${listed.leaseAgeMs} ms` : '-', listed?.instances ?? '-'];
      });
      out(table(['NODE', 'URL', 'PROCESS', 'STATE', 'INCARNATION', 'LEASE AGE', 'INSTANCES'], rows));
      if (up.length === 0) throw new CliError('CLUSTER_DOWN', 'no node of this cluster is running; start it again with: wisp cluster up');
    });

  cluster
    .command('down')
    .description('stop every node the launcher started (gracefully: instances are checkpointed), then its Redis')
    .option('--data <dir>', 'the directory given to `wisp cluster up`', DEFAULT_DATA)
    .action(async (options: { data: string }) => {
      const { out } = io();
      const dataDir = resolve(options.data);
      const state = readState(dataDir);
      // Only processes that are still the ones it started: a pid may have been reused since.
      await Promise.all(state.nodes.filter((node) => running(node.pid, node.start)).map((node) => stopProcess(node.pid)));
      if (state.redis.pid !== null && running(state.redis.pid, state.redis.start)) await stopProcess(state.redis.pid);
      forgetState(dataDir);
      out(`stopped ${state.nodes.length} node${state.nodes.length === 1 ? '' : 's'}${state.redis.pid === null ? '' : ' and redis-server'}; their data stays in ${dataDir}`);
    });
}
