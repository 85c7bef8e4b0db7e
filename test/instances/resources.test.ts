// Node resources: capacity from config, reservations per instance, admission that names the shortfall.
import t from 'tap';
import { availableParallelism, totalmem } from 'node:os';
import { loadConfig } from '../../dist/config.js';
import { gatewayHeadroomMb } from '../../dist/scheduler/node-resources.js';
import { startWisp } from '../helpers/wisp.js';
import { assertProblem } from '../helpers/wisp.js';
import { allocated, createInstance, instanceAction, mustCreate, startWithCounter } from '../helpers/instances.js';

const small = { node: { cpu: 1000, memory: 2000, custom: { ssd: 1 } } };

t.test("capacity defaults to the machine: cores × 1000 millicores and its memory in MiB less the gateway's headroom", async (t) => {
  const config = loadConfig({ env: {} });
  const totalMb = Math.floor(totalmem() / 2 ** 20);
  t.equal(config.node.cpu, availableParallelism() * 1000);
  t.equal(config.node.memory, totalMb - gatewayHeadroomMb(totalMb));
  t.same(config.node.custom, {});
  t.equal(loadConfig({ env: {}, overrides: { node: { memory: totalMb } } }).node.memory, totalMb, 'a memory set in the config is taken as it is');
});

t.test('the headroom is the larger of 512 MiB and an eighth of the memory, at most half of it', async (t) => {
  t.equal(gatewayHeadroomMb(2048), 512);
  t.equal(gatewayHeadroomMb(4096), 512);
  t.equal(gatewayHeadroomMb(16384), 2048);
  t.equal(gatewayHeadroomMb(65536), 8192);
  t.equal(gatewayHeadroomMb(768), 384, 'a small machine keeps half for instances');
});

t.test('GET /v1/node shows the default capacity: below the machine memory by the headroom', async (t) => {
  const app = await startWisp(t);
  const node = (await app.inject({ method: 'GET', url: '/v1/node' })).json();
  const totalMb = Math.floor(totalmem() / 2 ** 20);
  const headroom = gatewayHeadroomMb(totalMb);
  t.ok(headroom >= 512 || headroom === Math.floor(totalMb / 2), `a headroom of ${headroom} MiB`);
  t.equal(node.resources.capacity.memory, totalMb - headroom);
  t.ok(node.resources.capacity.memory < node.memoryMb, `capacity ${node.resources.capacity.memory} MiB is below the machine's ${node.memoryMb} MiB`);
});

t.test('GET /v1/node shows capacity, allocation and the instances holding it', async (t) => {
  const app = await startWithCounter(t, small);
  const id = await mustCreate(t, app, 'counter', { resources: { cpu: 250, memory: 300, custom: { ssd: 1 } } });
  const node = (await app.inject({ method: 'GET', url: '/v1/node' })).json();
  t.same(node.resources, { capacity: { cpu: 1000, memory: 2000, custom: { ssd: 1 } }, allocated: { cpu: 250, memory: 300, custom: { ssd: 1 } } });
  t.same(node.instances, [{ id, function: 'counter', class: 'Counter', status: 'running', resources: { cpu: 250, memory: 300, custom: { ssd: 1 } } }]);
  t.ok(node.pool, 'the pool is still there');
});

t.test('admission fails fast with 503 naming each shortfall; nothing is held after', async (t) => {
  const app = await startWithCounter(t, small);
  await mustCreate(t, app, 'counter', { resources: { cpu: 800, memory: 1500, custom: { ssd: 1 } } });
  const before = await allocated(app);
  const cpu = assertProblem(t, await createInstance(app, 'counter', { resources: { cpu: 500, memory: 100 } }), 503, 'INSUFFICIENT_RESOURCES');
  t.match(cpu.detail, /cpu: asked 500 millicores, 200 of 1000 free \(short by 300\)/);
  t.same(cpu.shortfall, { cpu: 300 });
  const several = assertProblem(t, await createInstance(app, 'counter', { resources: { cpu: 100, memory: 600, custom: { ssd: 1, gpu: 2 } } }), 503, 'INSUFFICIENT_RESOURCES');
  t.match(several.detail, /memory: asked 600 MiB, 500 of 2000 free \(short by 100\)/);
  t.match(several.detail, /ssd: asked 1, 0 of 1 free \(short by 1\)/);
  t.match(several.detail, /gpu: asked 2, not offered by this node \(short by 2\)/);
  t.same(several.shortfall, { memory: 100, custom: { ssd: 1, gpu: 2 } });
  t.same(await allocated(app), before, 'failed admissions hold nothing');
});

t.test('deletion and suspension give the reservation back', async (t) => {
  const app = await startWithCounter(t, small);
  const a = await mustCreate(t, app, 'counter', { resources: { cpu: 600, memory: 100, custom: { ssd: 1 } } });
  assertProblem(t, await createInstance(app, 'counter', { resources: { cpu: 600, memory: 100, custom: { ssd: 1 } } }), 503, 'INSUFFICIENT_RESOURCES');
  await instanceAction(app, a, 'suspend');
  const b = await mustCreate(t, app, 'counter', { resources: { cpu: 600, memory: 100, custom: { ssd: 1 } } });
  await app.inject({ method: 'DELETE', url: `/v1/instances/${b}` });
  t.same(await allocated(app), { cpu: 0, memory: 0, custom: {} });
  t.equal((await instanceAction(app, a, 'resume')).statusCode, 200, 'the suspended one fits again');
});
