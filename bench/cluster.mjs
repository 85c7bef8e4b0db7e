#!/usr/bin/env node
// Cluster benchmarks (issue 16), on one machine: a private redis-server (appendfsync always) and
// Wisp gateway processes on free ports, each baseline measured in the same run.
//  1. an instance method call forwarded by another node vs the same call on its owner
//     (wrk, 50 and 1 connections: req/s and p50), rounds alternating;
//  2. I/O-bound calls (the function awaits 20 ms) through 1, 2 and 3 nodes: one wrk per node,
//     the same total connections, req/s summed;
//  3. failover: SIGKILL of an instance's owner, 20 times (BENCH_KILLS), until a call through
//     another node is answered by the new owner; p50, p99, max. Default cluster timings
//     (heartbeat 1 s, lease 4 s, margin 2 s) unless BENCH_FAST_FAILOVER=1;
//  4. asynchronous invocations on 1, 2 and 3 nodes against the embedded node (cluster-async.mjs);
//  5. a group of 60 created and destroyed across 3 nodes against one node (cluster-groups.mjs).
// BENCH_CLUSTER_ONLY=4 (or 5) runs only that part.
// Settings: BENCH_DURATION (s per wrk run, default 10), BENCH_ROUNDS (3). Needs wrk and redis-server.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { api, ensureWrk, median, root, rounds, startRedis } from './lib.mjs';
import { wrkAt } from './wrk-parallel.mjs';
import { clusterAsync } from './cluster-async.mjs';
import { clusterGroups } from './cluster-groups.mjs';

const COUNTER = 'export class Counter { count = 0; add(n: number) { this.count += n; return this.count; } get() { return this.count; } }';
const SLEEPY = 'export const config = { concurrency: 1000, timeoutMs: 5000 };\nexport default async () => { await new Promise((r) => setTimeout(r, 20)); return "ok"; };';
const KILLS = Number(process.env.BENCH_KILLS ?? 20);

/** A gateway process (no supervisor: a SIGKILL is the node's death). */
async function startNode(work, id, redisUrl, config) {
  const child = spawn(process.execPath, ['dist/gateway-main.js'], {
    cwd: root,
    env: { ...process.env, WISP_PORT: '0', WISP_DATA_DIR: join(work, id), WISP_REDIS_URL: redisUrl, WISP_NODE_ID: id, ...(config ? { WISP_CONFIG: config } : {}) },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const url = await new Promise((resolve, reject) => {
    child.stdout.on('data', (chunk) => {
      const match = /Wisp listening on (http:\/\/[\d.:]+)/.exec(String(chunk));
      if (match) resolve(match[1]);
    });
    child.on('exit', (code) => reject(new Error(`node ${id} exited with ${code}`)));
  });
  return { id, child, url };
}

async function untilListed(nodes) {
  for (;;) {
    const view = await api(nodes[0].url, 'GET', '/v1/cluster');
    if (nodes.every((n) => view.nodes.some((m) => m.id === n.id && m.state === 'active' && m.address === n.url))) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

async function forwarding(nodes, work) {
  const [owner, other] = nodes;
  await api(owner.url, 'PUT', '/v1/functions/counter', COUNTER);
  const { id, node } = await api(owner.url, 'POST', '/v1/functions/counter/instances', { resources: { cpu: 10, memory: 64 } });
  if (node !== owner.id) throw new Error(`the instance went to ${node}, not ${owner.id}`);
  const script = join(work, 'call.lua');
  writeFileSync(script, 'wrk.method = "POST"\nwrk.body = "[1]"\nwrk.headers["Content-Type"] = "application/json"\n');
  const path = `/v1/instances/${id}/methods/add`;
  const rows = [];
  for (const connections of [50, 1]) {
    const direct = [];
    const forwarded = [];
    for (let round = 0; round < rounds; round++) {
      direct.push((await wrkAt([`${owner.url}${path}`], connections, script))[0]);
      forwarded.push((await wrkAt([`${other.url}${path}`], connections, script))[0]);
    }
    const d = { rps: median(direct.map((r) => r.rps)), p50: median(direct.map((r) => r.p50)) };
    const f = { rps: median(forwarded.map((r) => r.rps)), p50: median(forwarded.map((r) => r.p50)) };
    rows.push({ connections, direct: d, forwarded: f });
  }
  console.log('\n1. instance method call, forwarded by another node vs on its owner (medians)');
  console.log('| conns | direct req/s | direct p50 | forwarded req/s | forwarded p50 | forwarded/direct | p50 added |');
  console.log('|---|---|---|---|---|---|---|');
  for (const { connections, direct: d, forwarded: f } of rows) {
    console.log(`| ${connections} | ${d.rps.toFixed(0)} | ${d.p50.toFixed(3)} ms | ${f.rps.toFixed(0)} | ${f.p50.toFixed(3)} ms | **${(f.rps / d.rps).toFixed(2)}** | +${(f.p50 - d.p50).toFixed(3)} ms |`);
  }
}

async function ioBound(nodes, work) {
  await api(nodes[0].url, 'PUT', '/v1/functions/sleepy', SLEEPY);
  const script = join(work, 'sleepy.lua');
  writeFileSync(script, 'wrk.method = "POST"\nwrk.body = "null"\nwrk.headers["Content-Type"] = "application/json"\n');
  const total = 96;
  const results = new Map();
  for (let round = 0; round < rounds; round++) {
    for (const count of [1, 2, 3]) {
      const urls = nodes.slice(0, count).map((n) => `${n.url}/v1/functions/sleepy/invoke`);
      const runs = await wrkAt(urls, Math.floor(total / count), script);
      results.set(count, [...(results.get(count) ?? []), runs.reduce((sum, r) => sum + r.rps, 0)]);
    }
  }
  console.log(`\n2. I/O-bound calls (await 20 ms), ${total} connections in all, spread over the nodes (medians)`);
  console.log('| nodes | req/s | vs 1 node |');
  console.log('|---|---|---|');
  const one = median(results.get(1));
  for (const count of [1, 2, 3]) console.log(`| ${count} | ${median(results.get(count)).toFixed(0)} | **${(median(results.get(count)) / one).toFixed(2)}** |`);
}

async function failover(work, redisUrl, fast) {
  const config = join(work, 'cluster.json');
  writeFileSync(config, JSON.stringify({ cluster: fast ? { heartbeatMs: 100, leaseMs: 800, deadMarginMs: 300 } : {} }));
  const nodes = [];
  for (const id of ['f1', 'f2', 'f3']) nodes.push(await startNode(work, id, redisUrl, config));
  await untilListed(nodes);
  await api(nodes[0].url, 'PUT', '/v1/functions/counter', COUNTER);
  const { id } = await api(nodes[0].url, 'POST', '/v1/functions/counter/instances', { resources: { cpu: 10, memory: 64 }, checkpoint: 'every-call' });
  const times = [];
  for (let kill = 0; kill < KILLS; kill++) {
    const { node: ownerId } = await api(nodes[0].url, 'GET', `/v1/instances/${id}`);
    const index = nodes.findIndex((n) => n.id === ownerId);
    const owner = nodes[index];
    const other = nodes.find((n) => n !== owner);
    const before = await api(other.url, 'POST', `/v1/instances/${id}/methods/add`, [1]);
    owner.child.kill('SIGKILL');
    const killedAt = performance.now();
    for (;;) {
      const res = await fetch(`${other.url}/v1/instances/${id}/methods/add`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '[1]' });
      const body = await res.json();
      if (res.status === 200) {
        if (body !== before + 1) throw new Error(`after the failover the count is ${body}, expected ${before + 1}: an answered call was lost`);
        break;
      }
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    times.push(performance.now() - killedAt);
    nodes[index] = await startNode(work, owner.id, redisUrl, config);
    await untilListed(nodes);
  }
  for (const node of nodes) node.child.kill('SIGKILL');
  const sorted = [...times].sort((a, b) => a - b);
  const pick = (q) => sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)];
  console.log(`\n3. failover: SIGKILL of the owner until a call through another node is answered, ${KILLS} kills, ${fast ? 'short leases (heartbeat 100 ms, lease 800 ms, margin 300 ms)' : 'default timings (heartbeat 1 s, lease 4 s, margin 2 s)'}`);
  console.log('| kills | p50 | p99 | max | no answered call lost |');
  console.log('|---|---|---|---|---|');
  console.log(`| ${KILLS} | ${(pick(0.5) / 1000).toFixed(2)} s | ${(pick(0.99) / 1000).toFixed(2)} s | ${(sorted.at(-1) / 1000).toFixed(2)} s | yes |`);
}

async function main() {
  ensureWrk();
  const work = mkdtempSync(join(tmpdir(), 'wisp-bench-cluster-'));
  const redis = await startRedis(work);
  const nodes = [];
  try {
    if (process.env.BENCH_CLUSTER_ONLY === '4') return await clusterAsync(work, redis.url);
    if (process.env.BENCH_CLUSTER_ONLY === '5') return await clusterGroups(work, redis.url);
    for (const id of ['n1', 'n2', 'n3']) nodes.push(await startNode(work, id, redis.url));
    await untilListed(nodes);
    await forwarding(nodes, work);
    await ioBound(nodes, work);
    for (const node of nodes) node.child.kill('SIGKILL');
    await failover(work, redis.url, process.env.BENCH_FAST_FAILOVER === '1');
    await clusterAsync(work, redis.url);
    await clusterGroups(work, redis.url);
  } finally {
    for (const node of nodes) node.child.kill('SIGKILL');
    redis.child.kill('SIGKILL');
    rmSync(work, { recursive: true, force: true });
  }
}

await main();
