// `wisp cluster up | status | down`, the real executable as a child process: three nodes and a
// private Redis that answer through any node, then stopped; and its errors: PORT_IN_USE,
// NO_PORTS_LEFT, CLUSTER_START_TIMEOUT (naming the node, its port and its log), after which no
// process it started is left running.
import t from 'tap';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runWisp } from '../helpers/cli.js';
import { tempDir } from '../helpers/temp-dir.js';
import { redisInstalled } from '../helpers/redis.js';

const HELLO = readFileSync(new URL('../../functions/hello.ts', import.meta.url), 'utf8');

const wisp = (args: string[], env: Record<string, string> = {}) => runWisp(args, env);

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

/** The processes (on Linux) started with a WISP_DATA_DIR under `dir`: the nodes a launcher started there. */
function processesWithDataIn(dir: string): number[] {
  const out: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/environ`, 'latin1').split('\0').some((v) => v.startsWith(`WISP_DATA_DIR=${dir}`))) out.push(Number(entry));
    } catch {
      // Gone meanwhile, or not ours to read.
    }
  }
  return out;
}

async function listen(server: Server, port = 0): Promise<number> {
  server.listen(port, '127.0.0.1');
  await once(server, 'listening');
  return (server.address() as AddressInfo).port;
}

t.test('up starts three nodes and a Redis that answer through any node; status lists them; down stops them all', { skip: !redisInstalled() && 'redis-server is not installed' }, async (t) => {
  const data = join(tempDir(), 'cluster');
  t.teardown(() => wisp(['cluster', 'down', '--data', data]));
  const up = await wisp(['cluster', 'up', '--nodes', '3', '--data', data]);
  t.equal(up.code, 0, up.stderr);
  const urls = [...up.stdout.matchAll(/node-\d\s+(http:\/\/127\.0\.0\.1:\d+)/g)].map((m) => m[1]!);
  t.equal(urls.length, 3, 'prints the three node URLs');
  t.match(up.stderr, /node node-3 is ready/, 'shows progress on stderr');
  const state = JSON.parse(readFileSync(join(data, 'cluster.json'), 'utf8')) as { nodes: { pid: number }[]; redis: { pid: number } };
  // The README's curl examples, through different nodes.
  const deployed = await fetch(`${urls[0]}/v1/functions/hello`, { method: 'PUT', headers: { 'content-type': 'application/typescript' }, body: HELLO });
  t.equal(deployed.status, 201);
  for (const url of urls.slice(1)) {
    const res = await fetch(`${url}/v1/functions/hello/invoke`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"name":"Ann"}' });
    t.same(await res.json(), { greeting: 'Hello, Ann' }, `invoked through ${url}`);
  }
  const status = await wisp(['cluster', 'status', '--data', data]);
  t.equal(status.code, 0);
  t.equal(status.stdout.match(/node-\d\s+http\S+\s+running \(pid \d+\)\s+active/g)?.length, 3, 'status shows each node running and active');
  const json = await wisp(['--json', 'cluster', 'status', '--data', data]);
  t.equal(JSON.parse(json.stdout).cluster.nodes.length, 3, '--json gives the raw view');
  t.ok(processesWithDataIn(data).length >= 6, 'three supervisors and their gateways run (and what they started)');
  const down = await wisp(['cluster', 'down', '--data', data]);
  t.equal(down.code, 0);
  t.match(down.stdout, /stopped 3 nodes and redis-server/);
  t.ok([...state.nodes.map((n) => n.pid), state.redis.pid].every((pid) => !alive(pid)), 'no process is left running');
  t.same(processesWithDataIn(data), [], 'their gateways neither');
  const after = await wisp(['cluster', 'status', '--data', data]);
  t.equal(after.code, 1);
  t.match(after.stderr, /^error NO_CLUSTER: /);
});

t.test('an explicit port that is taken is PORT_IN_USE, exit 3', async (t) => {
  const server = createServer();
  t.teardown(() => server.close());
  const port = await listen(server);
  const up = await wisp(['cluster', 'up', '--nodes', '1', '--port', String(port), '--redis', 'redis://127.0.0.1:1', '--data', tempDir()]);
  t.equal(up.code, 3);
  t.match(up.stderr, new RegExp(`^error PORT_IN_USE: port ${port} \\(for node 1 of 1\\) is in use`));
});

t.test('a range with too few free ports is NO_PORTS_LEFT, exit 3', async (t) => {
  const server = createServer();
  t.teardown(() => server.close());
  const port = await listen(server);
  const up = await wisp(['cluster', 'up', '--nodes', '2', '--ports', `${port}-${port}`, '--redis', 'redis://127.0.0.1:1', '--data', tempDir()]);
  t.equal(up.code, 3);
  t.match(up.stderr, new RegExp(`^error NO_PORTS_LEFT: only 0 of the ports ${port}-${port} are free, and 2 nodes need 2`));
});

t.test('a node that is not ready in time is CLUSTER_START_TIMEOUT, naming it, its port and its log; nothing is left running', async (t) => {
  // A "Redis" that accepts connections and never answers: the node waits on it at its start.
  const silent = createServer(() => undefined);
  t.teardown(() => silent.close());
  const redisPort = await listen(silent);
  const data = tempDir();
  const up = await wisp(['cluster', 'up', '--nodes', '2', '--timeout', '2', '--redis', `redis://127.0.0.1:${redisPort}`, '--data', data]);
  t.equal(up.code, 3);
  t.match(up.stderr, /^error CLUSTER_START_TIMEOUT: node node-1 \(port \d+\) was not ready in time; its last log lines:/m);
  t.same(processesWithDataIn(data), [], 'every node it started was stopped');
  t.ok(existsSync(join(data, 'node-1.log')), 'the node logged to its own file');
  t.notOk(existsSync(join(data, 'cluster.json')), 'no state is left for a cluster that did not start');
});

t.test('--help lists the exit codes and the cluster commands', async (t) => {
  const help = await wisp(['--help']);
  t.equal(help.code, 0);
  t.match(help.stdout, /Exit codes:[\s\S]*3\s+a cluster could not be started/);
  const up = await wisp(['cluster', 'up', '--help']);
  t.match(up.stdout, /--nodes <n>[\s\S]*--redis <url>[\s\S]*--port <p>[\s\S]*--ports <a-b>[\s\S]*--timeout <s>[\s\S]*--data <dir>/);
  const bad = await wisp(['cluster', 'up', '--nodes', 'many']);
  t.equal(bad.code, 2, 'a bad argument is a usage error');
});
