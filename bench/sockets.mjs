#!/usr/bin/env node
// WebSocket and hibernation benchmarks (issue 19), each beside its baseline in the same run:
//  1. echo messages/s to one instance over 50 sockets, each keeping 16 frames in flight: Wisp's
//     webSocketMessage echo vs bare Fastify + @fastify/websocket echoing (target >= 0.6x);
//  2. RSS per hibernated instance over BENCH_HIBERNATED (1,000) instances, against the RSS after
//     as many instances were created and deleted (the same thread churn, nothing kept): target
//     <= 0.2 MB each;
//  3. wake-up: a method call on each hibernated instance, p50 and p99, half of them back to back
//     and half 50 ms apart, beside a raw `new Worker()` to its first message (target p50 <= 30 ms).
// Settings: BENCH_DURATION (s per echo round), BENCH_ROUNDS, BENCH_HIBERNATED.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import WebSocket from 'ws';
import { api, duration, gatewayPid, median, rawWorkerStart, rounds, start } from './lib.mjs';

const ECHO = 'export class Echo { webSocketMessage(socket: { send(d: unknown): void }, data: string | ArrayBuffer) { socket.send(data); } }';
const COUNTER = 'export class Counter { count = 0; add(n: number) { this.count += n; return this.count; } }';
const SMALL = { cpu: 10, memory: 64 };
const SOCKETS = 50;
const IN_FLIGHT = 16;
const HIBERNATED = Number(process.env.BENCH_HIBERNATED ?? 1000);
const IDLE_MS = 200;
const SPACING_MS = 50;

const rssMb = (pid) => Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))[1]) / 1024;
const percentile = (values, p) => [...values].sort((x, y) => x - y)[Math.min(values.length - 1, Math.floor(values.length * p))];

/** Echoes received per second over `seconds`, from SOCKETS sockets each keeping IN_FLIGHT frames out. */
async function echoRate(url, seconds) {
  const payload = JSON.stringify({ text: 'hello room', n: 42 });
  const sockets = await Promise.all(Array.from({ length: SOCKETS }, () => new Promise((resolve, reject) => {
    const ws = new WebSocket(url);
    ws.once('open', () => resolve(ws));
    ws.once('error', reject);
  })));
  let received = 0;
  let counting = false;
  for (const ws of sockets) {
    ws.on('message', () => {
      if (counting) received++;
      ws.send(payload);
    });
  }
  for (const ws of sockets) for (let i = 0; i < IN_FLIGHT; i++) ws.send(payload);
  await new Promise((resolve) => setTimeout(resolve, 1000)); // warm
  counting = true;
  const began = performance.now();
  await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
  const rate = received / ((performance.now() - began) / 1000);
  counting = false;
  await Promise.all(sockets.map((ws) => new Promise((resolve) => {
    ws.once('close', resolve);
    ws.close();
  })));
  return rate;
}


async function untilHibernated(base, count) {
  for (;;) {
    const { instances } = await api(base, 'GET', '/v1/instances?status=hibernated');
    if (instances.length >= count) return;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

async function main() {
  const work = mkdtempSync(join(tmpdir(), 'wisp-bench-'));
  const bare = await start(['bench/bare-ws-echo.mjs'], {});
  const wisp = await start(['dist/main.js'], { WISP_PORT: '0', WISP_DATA_DIR: join(work, 'data') });
  const f = (n, d = 2) => n.toFixed(d);
  try {
    await api(wisp.url, 'PUT', '/v1/functions/echo', ECHO);
    const { id } = await api(wisp.url, 'POST', '/v1/functions/echo/instances', { resources: SMALL });
    const ws = (base, instance) => `${base.replace(/^http/, 'ws')}/v1/instances/${instance}/ws`;
    const a = [];
    const b = [];
    for (let round = 0; round < rounds; round++) {
      a.push(await echoRate(ws(bare.url, 'x'), duration));
      b.push(await echoRate(ws(wisp.url, id), duration));
    }
    console.log(`\n1. echo over ${SOCKETS} sockets, ${IN_FLIGHT} frames in flight each, ${duration} s rounds, median of ${rounds} alternating rounds`);
    console.log(`   a = bare @fastify/websocket echo: ${f(median(a), 0)} messages/s (${a.map((r) => f(r, 0)).join(', ')})`);
    console.log(`   b = Wisp instance echo:           ${f(median(b), 0)} messages/s (${b.map((r) => f(r, 0)).join(', ')})`);
    const ratio = median(b.map((r, i) => r / a[i]));
    console.log(`   b/a = ${f(ratio)} (median of per-round ratios; target >= 0.60: ${ratio >= 0.6 ? 'met' : 'NOT met'})`);

    await api(wisp.url, 'PUT', '/v1/functions/counter', COUNTER);
    // The same thread churn as below, nothing kept: what RSS creating and stopping threads leaves.
    for (let i = 0; i < HIBERNATED; i++) {
      const created = await api(wisp.url, 'POST', '/v1/functions/counter/instances', { resources: SMALL });
      await api(wisp.url, 'DELETE', `/v1/instances/${created.id}`);
    }
    const gateway = gatewayPid(wisp.child.pid);
    const before = rssMb(gateway);
    const ids = [];
    for (let i = 0; i < HIBERNATED; i++) ids.push((await api(wisp.url, 'POST', '/v1/functions/counter/instances', { resources: SMALL, idleSuspendMs: IDLE_MS })).id);
    await untilHibernated(wisp.url, HIBERNATED);
    const after = rssMb(gateway);
    const perInstance = (after - before) / HIBERNATED;
    console.log(`\n2. hibernated instances: RSS ${f(before, 0)} MB after ${HIBERNATED} created and deleted -> ${f(after, 0)} MB with ${HIBERNATED} hibernated`);
    console.log(`   ${f(perInstance, 3)} MB per hibernated instance (target <= 0.2 MB: ${perInstance <= 0.2 ? 'met' : 'NOT met'})`);

    // Back to back, each wake waits for the spare thread the one before used up to finish booting;
    // spaced out (the usual case: rooms wake one now and one later), a booted spare is waiting.
    const wake = async (instance) => {
      const began = performance.now();
      await api(wisp.url, 'POST', `/v1/instances/${instance}/methods/add`, [1]);
      return performance.now() - began;
    };
    const half = Math.floor(ids.length / 2);
    const backToBack = [];
    const spaced = [];
    for (const instance of ids.slice(0, half)) backToBack.push(await wake(instance));
    for (const instance of ids.slice(half)) {
      await new Promise((resolve) => setTimeout(resolve, SPACING_MS));
      spaced.push(await wake(instance));
    }
    const raw = [];
    for (let i = 0; i < 100; i++) raw.push(await rawWorkerStart());
    const all = [...backToBack, ...spaced];
    console.log(`\n3. wake-up: a call on each of ${HIBERNATED} hibernated instances`);
    console.log(`   all:                         p50 ${f(median(all))} ms, p99 ${f(percentile(all, 0.99))} ms (target p50 <= 30 ms: ${median(all) <= 30 ? 'met' : 'NOT met'})`);
    console.log(`   ${half} back to back:           p50 ${f(median(backToBack))} ms, p99 ${f(percentile(backToBack, 0.99))} ms`);
    console.log(`   ${ids.length - half} spaced ${SPACING_MS} ms apart:     p50 ${f(median(spaced))} ms, p99 ${f(percentile(spaced, 0.99))} ms`);
    console.log(`   raw new Worker(cjs) to first message, 100 samples after: p50 ${f(median(raw))} ms`);
  } finally {
    // Wisp may still be writing checkpoints: its data goes once it has exited.
    await Promise.all([bare, wisp].map(({ child }) => (child.exitCode === null ? new Promise((resolve) => child.once('exit', resolve).kill()) : undefined)));
    rmSync(work, { recursive: true, force: true });
  }
}

await main();
