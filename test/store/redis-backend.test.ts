// Wisp on the Redis backend, one node: what it keeps is in Redis (a second Wisp with an empty
// data dir serves the same functions, instances and invocations), an unreachable Redis at the
// start is an exit naming the URL, and while Redis is gone requests that need it get
// 503 STORE_UNAVAILABLE, nothing acknowledged is lost, and Wisp recovers by itself.
import t from 'tap';
import { createServer } from 'node:net';
import { once } from 'node:events';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { startGate } from '../helpers/gate.js';
import { getInvocation, mustSubmit, waitFinal } from '../helpers/invocations.js';
import { startRedis } from '../helpers/redis.js';
import { tempDir } from '../helpers/temp-dir.js';
import { assertProblem, invoke, mustDeploy, startWisp } from '../helpers/wisp.js';

const GATEWAY = fileURLToPath(new URL('../../dist/gateway-main.js', import.meta.url));
const COUNTER = `export class Counter { n = 0; add(k: number) { this.n += k; return this.n; } }
export default (input: { name?: string } | null) => \`Hello, \${input?.name ?? "world"}\`;`;

t.test('everything a Wisp keeps is in Redis: a second one with an empty data dir serves it', async (t) => {
  const redis = await startRedis(t);
  if (!redis) return;
  const store = { redisUrl: redis.url, redisPrefix: 'wisp-a:' };
  const first = await startWisp(t, { store });
  await mustDeploy(t, first, 'hello', COUNTER);
  t.equal((await invoke(first, 'hello', { name: 'Ann' })).json(), 'Hello, Ann');
  const done = await waitFinal(first, await mustSubmit(t, first, 'hello', { name: 'Bo' }));
  t.equal(done.result, 'Hello, Bo');
  const created = await first.inject({ method: 'POST', url: '/v1/functions/hello/instances', payload: { class: 'Counter', name: 'main' } });
  t.equal(created.statusCode, 201);
  const instance = created.json().id as string;
  await first.inject({ method: 'POST', url: `/v1/instances/${instance}/methods/add`, payload: [2] });
  t.equal((await first.inject({ method: 'POST', url: `/v1/instances/${instance}/suspend` })).statusCode, 200);
  await first.close();

  // Another machine: nothing in its data dir, the same Redis.
  const second = await startWisp(t, { store }, tempDir());
  t.equal((await invoke(second, 'hello', { name: 'Cy' })).json(), 'Hello, Cy', 'the code comes from Redis');
  t.equal((await getInvocation(second, done.id)).result, 'Hello, Bo', 'so do the invocations');
  t.equal((await second.inject({ method: 'POST', url: `/v1/instances/${instance}/resume` })).statusCode, 200);
  t.equal((await second.inject({ method: 'POST', url: `/v1/instances/${instance}/methods/add`, payload: [3] })).json(), 5, 'and the instance, with its state');
  const again = await second.inject({ method: 'POST', url: '/v1/functions/hello/instances', payload: { class: 'Counter', name: 'main' } });
  t.equal(again.statusCode, 200, 'its name is taken, in Redis');
  t.equal(again.json().id, instance);

  const other = await startWisp(t, { store: { redisUrl: redis.url, redisPrefix: 'wisp-b:' } });
  assertProblem(t, await invoke(other, 'hello'), 404, 'FUNCTION_NOT_FOUND');
  t.pass('another prefix is another Wisp');
});

t.test('an unreachable Redis at the start: Wisp exits, naming the URL and why', async (t) => {
  const server = createServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  const child = spawn(process.execPath, [GATEWAY], {
    env: { PATH: process.env.PATH ?? '', WISP_PORT: '0', WISP_DATA_DIR: tempDir(), WISP_REDIS_URL: `redis://:hunter2@127.0.0.1:${port}` },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (chunk) => (stderr += chunk));
  const [code] = await once(child, 'exit');
  t.equal(code, 3);
  t.match(stderr, `wisp: cannot reach the Redis store at redis://:***@127.0.0.1:${port}`);
  t.match(stderr, /ECONNREFUSED/);
  t.notMatch(stderr, /hunter2/, 'the password is not shown');
});

t.test('a "Redis" that takes the connection and never answers: Wisp exits within the deadline, naming it', async (t) => {
  const silent = createServer(() => undefined).listen(0, '127.0.0.1');
  t.teardown(() => silent.close());
  await once(silent, 'listening');
  const { port } = silent.address() as { port: number };
  const child = spawn(process.execPath, [GATEWAY], {
    env: { PATH: process.env.PATH ?? '', WISP_PORT: '0', WISP_DATA_DIR: tempDir(), WISP_REDIS_URL: `redis://127.0.0.1:${port}` },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (chunk) => (stderr += chunk));
  const [code] = await once(child, 'exit');
  t.equal(code, 3);
  t.match(stderr, `wisp: cannot reach the Redis store at redis://127.0.0.1:${port}`);
  t.match(stderr, /accepted the connection but did not answer within 10 s/);
});

t.test('Redis lost while running: 503 STORE_UNAVAILABLE, nothing acknowledged lost, back by itself', async (t) => {
  const redis = await startRedis(t);
  if (!redis) return;
  const app = await startWisp(t, { store: { redisUrl: redis.url, redisPrefix: 'wisp:' } });
  await mustDeploy(t, app, 'hello', COUNTER);
  const acknowledged = await waitFinal(app, await mustSubmit(t, app, 'hello', { name: 'Di' }));
  await redis.kill();
  const submit = await app.inject({ method: 'POST', url: '/v1/functions/hello/invocations', payload: {} });
  assertProblem(t, submit, 503, 'STORE_UNAVAILABLE');
  t.equal(submit.headers['retry-after'], '1');
  assertProblem(t, await app.inject(`/v1/invocations/${acknowledged.id}`), 503, 'STORE_UNAVAILABLE');
  t.equal((await invoke(app, 'hello', { name: 'Ed' })).json(), 'Hello, Ed', 'a synchronous call needs no store');
  await redis.restart();
  // The client reconnects on its own; the first request after may still find it reconnecting.
  let after = await app.inject({ method: 'POST', url: '/v1/functions/hello/invocations', payload: { name: 'Fa' } });
  while (after.statusCode === 503) after = await app.inject({ method: 'POST', url: '/v1/functions/hello/invocations', payload: { name: 'Fa' } });
  t.equal(after.statusCode, 202, 'accepted again');
  t.equal((await waitFinal(app, after.json().id)).result, 'Hello, Fa', 'and run');
  t.equal((await getInvocation(app, acknowledged.id)).result, 'Hello, Di', 'what was acknowledged before is there (appendfsync always)');
});

t.test('Redis settings that break a guarantee are named at the start', async (t) => {
  const { riskySettings } = await import('../../dist/store/redis-backend.js');
  t.same(riskySettings({ appendonly: 'yes', appendfsync: 'always', 'maxmemory-policy': 'noeviction' }), [], 'what the design asks for');
  t.same(riskySettings({}), [], 'CONFIG not allowed: nothing to say');
  t.match(riskySettings({ appendonly: 'no', appendfsync: 'always', 'maxmemory-policy': 'noeviction' }), [/appendonly is "no".*set appendonly yes/]);
  t.match(riskySettings({ appendonly: 'yes', appendfsync: 'everysec', 'maxmemory-policy': 'allkeys-lru' }), [
    /appendfsync is "everysec".*set appendfsync always/,
    /maxmemory-policy is "allkeys-lru".*set maxmemory-policy noeviction/,
  ]);
});

t.test('an attempt whose lease ran out while Redis was gone is stopped, taken back and run again', async (t) => {
  const redis = await startRedis(t);
  if (!redis) return;
  const gate = await startGate(t);
  const app = await startWisp(t, { store: { redisUrl: redis.url, redisPrefix: 'wisp:' }, invocations: { leaseMs: 1000 } as never });
  const url = JSON.stringify(gate.url);
  await mustDeploy(
    t,
    app,
    'patient',
    `export const config = { timeoutMs: 60000 };
export default async (_: unknown, ctx: { attempt: number; signal: AbortSignal }) => {
  // Tells the test when this attempt is stopped.
  ctx.signal.addEventListener("abort", () => void fetch(${url} + "stopped").catch(() => {}));
  await fetch(${url});
  return ctx.attempt;
};`,
  );
  const id = await mustSubmit(t, app, 'patient');
  await gate.arrived(1);
  await redis.kill();
  // Its lease cannot be renewed; once it has run out the attempt is stopped here.
  await gate.arrived(2);
  await redis.restart();
  // Taken back by the reclaim that runs every lease period, and claimed again.
  await gate.arrived(3);
  gate.open();
  const done = await waitFinal(app, id);
  t.equal(done.status, 'succeeded');
  t.equal(done.result, 2, 'the second attempt\'s answer; the first one\'s is not stored');
  t.equal(done.attempts, 2);
  t.equal(done.maxAttempts, 4, 'the cut-off attempt did not use up a retry');
});
