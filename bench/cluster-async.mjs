// The cluster's asynchronous queue on 1, 2 and 3 nodes against the embedded single node, in one
// run (issue 17): an I/O-bound function (it awaits 20 ms) for completions, so that more nodes can add work.
//   acknowledged/s  wrk POST …/invocations of a trivial function spread over the nodes (48
//                   connections in all);
//   completed/s     BENCH_CLUSTER_BATCH (default 3000) submitted at once through every node,
//                   from the first submission until the queue is drained.
// Each cluster size starts its own nodes under a fresh key prefix (a node not asked would still
// take shared work), rounds alternating between the embedded node and each size.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { api, median, rounds, start, untilActive } from './lib.mjs';
import { drained } from './queue-lib.mjs';
import { wrkAt } from './wrk-parallel.mjs';

const WAITER = 'export const config = { concurrency: 1000, timeoutMs: 5000, retries: 0 };\nexport default async () => { await new Promise((r) => setTimeout(r, 20)); return "ok"; };';
const BATCH = Number(process.env.BENCH_CLUSTER_BATCH ?? 3000);
const CONNECTIONS = 48;

/** Submits `size` invocations from 48 submitters taking the nodes in turn; completions per second until drained. */
async function completed(urls, size) {
  const started = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: CONNECTIONS }, async (_, submitter) => {
      while (next < size) {
        next++;
        await api(urls[submitter % urls.length], 'POST', '/v1/functions/waiter/invocations', null);
      }
    }),
  );
  await drained(urls[0]);
  return size / ((performance.now() - started) / 1000);
}

async function measure(urls, script) {
  // Acknowledged: a trivial function, deleted after the run so that what wrk queued ends at once
  // (an invocation of a deleted function fails without running) instead of draining for minutes.
  await api(urls[0], 'PUT', '/v1/functions/sink', 'export const config = { retries: 0 };\nexport default () => null;');
  const ack = (await wrkAt(urls.map((url) => `${url}/v1/functions/sink/invocations`), Math.floor(CONNECTIONS / urls.length), script)).reduce((sum, r) => sum + r.rps, 0);
  await api(urls[0], 'DELETE', '/v1/functions/sink');
  await drained(urls[0]);
  await api(urls[0], 'PUT', '/v1/functions/waiter', WAITER);
  return { ack, done: await completed(urls, BATCH) };
}

/**
 * `redisUrl` is the bench's redis-server (appendfsync always). Prints a
 * table of medians, each size against the embedded node of the same rounds.
 */
export async function clusterAsync(work, redisUrl) {
  const script = join(work, 'submit.lua');
  writeFileSync(script, 'wrk.method = "POST"\nwrk.body = "null"\nwrk.headers["Content-Type"] = "application/json"\n');
  const results = new Map();
  const record = (key, value) => results.set(key, [...(results.get(key) ?? []), value]);
  for (let round = 0; round < rounds; round++) {
    for (const size of [0, 1, 2, 3]) {
      const nodes = [];
      try {
        const prefix = `bench-async-${round}-${size}:`;
        for (let i = 0; i < Math.max(size, 1); i++) {
          const env = { WISP_PORT: '0', WISP_DATA_DIR: join(work, `async-${round}-${size}-${i}`) };
          nodes.push(await start(['dist/gateway-main.js'], size === 0 ? env : { ...env, WISP_REDIS_URL: redisUrl, WISP_REDIS_PREFIX: prefix, WISP_NODE_ID: `a${i + 1}` }));
        }
        if (size > 0) await untilActive(nodes[0].url, size);
        record(size, await measure(nodes.map((n) => n.url), script));
      } finally {
        for (const node of nodes) node.child.kill('SIGKILL');
      }
    }
  }
  const med = (size, key) => median(results.get(size).map((r) => r[key]));
  console.log(`\n4. asynchronous invocations of an I/O-bound function (awaits 20 ms): acknowledged/s (wrk, ${CONNECTIONS} connections in all) and completed/s (${BATCH} submitted at once), medians of ${rounds} rounds`);
  console.log('| nodes | acknowledged/s | vs embedded | completed/s | vs embedded |');
  console.log('|---|---|---|---|---|');
  console.log(`| embedded (SQLite), 1 | ${med(0, 'ack').toFixed(0)} | 1.00 | ${med(0, 'done').toFixed(0)} | 1.00 |`);
  for (const size of (process.env.BENCH_CLUSTER_SIZES ?? "1,2,3").split(",").map(Number)) {
    console.log(`| cluster, ${size} | ${med(size, 'ack').toFixed(0)} | **${(med(size, 'ack') / med(0, 'ack')).toFixed(2)}** | ${med(size, 'done').toFixed(0)} | **${(med(size, 'done') / med(0, 'done')).toFixed(2)}** |`);
  }
}
