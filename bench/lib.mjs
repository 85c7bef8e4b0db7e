// What every benchmark here shares: wrk, starting servers that print their URL, medians.
import { execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { Agent, request } from 'node:http';
import { createServer } from 'node:net';
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { Worker } from 'node:worker_threads';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

export const root = fileURLToPath(new URL('..', import.meta.url));
export const duration = Number(process.env.BENCH_DURATION ?? 10);
export const rounds = Number(process.env.BENCH_ROUNDS ?? 3);

export function ensureWrk() {
  try {
    execFileSync('wrk', ['--version'], { stdio: 'ignore' });
  } catch (err) {
    if (err.code !== 'ENOENT') return; // wrk --version exits 1 but exists
    if (process.getuid?.() === 0) {
      console.error('bench: installing wrk (apt-get install wrk)');
      execFileSync('sh', ['-c', 'apt-get update -qq && apt-get install -y -qq wrk'], { stdio: 'inherit' });
    } else {
      throw new Error('wrk is needed: apt-get install wrk');
    }
  }
}

export function start(args, env) {
  const child = spawn(process.execPath, args, { cwd: root, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    createInterface({ input: child.stdout }).on('line', (line) => {
      const match = /(?:listening|Wisp listening on) (http:\/\/[\d.:]+)/.exec(line);
      if (match) resolve({ child, url: match[1] });
    });
    child.on('exit', (code) => reject(new Error(`${args.join(' ')} exited with ${code}`)));
  });
}

export const toMs = (value, unit) => Number(value) * { us: 0.001, ms: 1, s: 1000 }[unit];

export function wrk(url, connections, script) {
  return parseWrk(execFileSync('wrk', ['-t1', `-c${connections}`, `-d${duration}s`, '--latency', '-s', script, url], { encoding: 'utf8' }));
}

/** req/s, p50 and p99 (ms) of a wrk --latency report; throws when it saw error responses. */
export function parseWrk(out) {
  const pick = (label) => {
    const m = new RegExp(`^\\s*${label}\\s+([\\d.]+)(us|ms|s)\\s*$`, 'm').exec(out);
    return m ? toMs(m[1], m[2]) : NaN;
  };
  const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(out)[1]);
  const errors = /Non-2xx or 3xx responses: (\d+)/.exec(out);
  if (errors) throw new Error(`wrk saw ${errors[1]} error responses:\n${out}`);
  return { rps, p50: pick('50%'), p99: pick('99%') };
}

export const median = (values) => [...values].sort((x, y) => x - y)[Math.floor(values.length / 2)];

/** A JSON API call to a started server; TypeScript strings are sent as code to deploy. */
export async function api(base, method, path, body) {
  let res;
  try {
    res = await send(base, method, path, body);
  } catch (err) {
    // fetch keeps idle sockets for as long as the server's Keep-Alive hint says, and may pick
    // one the server is closing just then (after the minute of wrk runs); that request never
    // reached the server, so sending it again is safe.
    if (err?.cause?.code !== 'UND_ERR_SOCKET') throw err;
    res = await send(base, method, path, body);
  }
  const text = await res.text();
  if (res.status >= 300) throw new Error(`${method} ${path}: ${res.status} ${text}`);
  return text ? JSON.parse(text) : null;
}

function send(base, method, path, body) {
  return fetch(`${base}${path}`, {
    method,
    headers: body === undefined ? {} : { 'content-type': typeof body === 'string' ? 'application/typescript' : 'application/json' },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
}

/** Resolves once the cluster node at `url` lists `count` active nodes with addresses. */
/**
 * A client for timing one request at a time: node:http on one kept-alive socket, the way wrk
 * holds its connections. fetch() (api above) adds ~1 ms of its own to each request here (the
 * same creates, alternating in one run: p50 5.0-6.1 ms through fetch, 3.9-4.9 ms through this),
 * which a latency target of a few milliseconds would count against the server.
 */
export function timingClient(base) {
  const url = new URL(base);
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  const post = (path, body) =>
    new Promise((resolve, reject) => {
      const data = JSON.stringify(body);
      const headers = { 'content-type': 'application/json', 'content-length': Buffer.byteLength(data) };
      const req = request({ agent, host: url.hostname, port: url.port, path, method: 'POST', headers }, (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk) => (text += chunk));
        res.on('end', () => (res.statusCode >= 300 ? reject(new Error(`POST ${path}: ${res.statusCode} ${text}`)) : resolve(JSON.parse(text))));
      });
      req.on('error', reject);
      req.end(data);
    });
  return { post, close: () => agent.destroy() };
}

export async function untilActive(url, count) {
  for (;;) {
    const view = await api(url, 'GET', '/v1/cluster');
    if (view.nodes.filter((n) => n.state === 'active' && n.address).length >= count) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/**
 * The gateway's pid under `node dist/main.js`, whose own process is the supervisor (its RSS is
 * not where instances live); the pid itself when it has no child.
 */
export function gatewayPid(pid) {
  const children = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean);
  return children.length > 0 ? Number(children[0]) : pid;
}

/** Milliseconds from `new Worker()` of a one-line CommonJS file to its first message: the fastest a thread starts. */
export function rawWorkerStart() {
  const began = performance.now();
  const worker = new Worker(new URL('./first-message-worker.cjs', import.meta.url));
  return new Promise((resolve, reject) => {
    worker.once('error', reject);
    worker.once('message', () => {
      const ms = performance.now() - began;
      void worker.terminate().then(() => resolve(ms));
    });
  });
}

/** A TCP port free on 127.0.0.1 a moment ago. */
export async function freePort() {
  const server = createServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address();
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** A private redis-server with AOF fsync always (the durability Wisp's own stores give), its data in `dir`. */
export async function startRedis(dir) {
  const port = await freePort();
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--appendonly', 'yes', '--appendfsync', 'always', '--save', ''], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise((resolve, reject) => {
    child.stdout.on('data', (chunk) => /Ready to accept connections/.test(String(chunk)) && resolve());
    child.on('exit', (code) => reject(new Error(`redis-server exited with ${code}`)));
  });
  return { child, url: `redis://127.0.0.1:${port}` };
}
