// A group of 60 small instances (cpu 10, memory 32) created and then destroyed over HTTP, spread
// over the three nodes of a cluster, against the same group on one embedded node, in one run
// (issue 17), rounds alternating. Each sample is POST /v1/groups until it answers 201 (every
// member started) plus DELETE until 204 (every member stopped).
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { api, median, rounds, start, untilActive } from './lib.mjs';

const SIZE = 60;
const COUNTER = 'export class Counter { count = 0; add(n: number) { this.count += n; return this.count; } }';
const SAMPLES_PER_ROUND = 3;

let serial = 0;
async function createAndDestroy(base, placement) {
  const name = `g${++serial}`;
  const began = performance.now();
  const created = await api(base, 'POST', '/v1/groups', { name, instances: Array.from({ length: SIZE }, () => ({ function: 'counter', resources: { cpu: 10, memory: 32 } })), policy: { placement } });
  if (!Array.isArray(created.instances)) throw new Error(`the group was not created: ${JSON.stringify(created)}`);
  const took = performance.now() - began;
  await api(base, 'DELETE', `/v1/groups/${name}`);
  return { total: performance.now() - began, create: took, nodes: new Set(created.instances.map((m) => m.node)).size };
}


export async function clusterGroups(work, redisUrl) {
  const nodes = [];
  try {
    nodes.push(await start(['dist/gateway-main.js'], { WISP_PORT: '0', WISP_DATA_DIR: join(work, 'groups-embedded') }));
    for (let i = 1; i <= 3; i++) {
      nodes.push(await start(['dist/gateway-main.js'], { WISP_PORT: '0', WISP_DATA_DIR: join(work, `groups-${i}`), WISP_REDIS_URL: redisUrl, WISP_REDIS_PREFIX: 'bench-groups:', WISP_NODE_ID: `g${i}` }));
    }
    const [embedded, first] = [nodes[0].url, nodes[1].url];
    await untilActive(first, 3);
    await api(embedded, 'PUT', '/v1/functions/counter', COUNTER);
    await api(first, 'PUT', '/v1/functions/counter', COUNTER);
    // Warm both up (threads booted once, code cached on every node).
    await createAndDestroy(embedded, 'pack');
    await createAndDestroy(first, 'spread');
    const one = [];
    const three = [];
    let spreadOver = 0;
    for (let round = 0; round < rounds * SAMPLES_PER_ROUND; round++) {
      one.push(await createAndDestroy(embedded, 'pack'));
      const sample = await createAndDestroy(first, 'spread');
      spreadOver = Math.max(spreadOver, sample.nodes);
      three.push(sample);
    }
    const med = (samples, key) => median(samples.map((s) => s[key]));
    console.log(`\n5. a group of ${SIZE} (cpu 10, memory 32 each) created and destroyed: spread over 3 nodes vs one embedded node, medians of ${one.length} alternating samples`);
    console.log('| where | create | create + destroy | vs one node |');
    console.log('|---|---|---|---|');
    console.log(`| one node (embedded) | ${med(one, 'create').toFixed(0)} ms | ${med(one, 'total').toFixed(0)} ms | 1.00 |`);
    console.log(`| 3 nodes, spread (members on ${spreadOver} nodes) | ${med(three, 'create').toFixed(0)} ms | ${med(three, 'total').toFixed(0)} ms | **${(med(three, 'total') / med(one, 'total')).toFixed(2)}** |`);
  } finally {
    for (const node of nodes) node.child.kill('SIGKILL');
  }
}
