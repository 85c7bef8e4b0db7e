// V8 aborts the whole process on a fatal out-of-memory inside a runtime or API allocation,
// whichever thread it happens on, so some faults of user code cannot be contained in a worker.
// The supervisor (dist/main.js) restarts the gateway when that happens; nothing acknowledged is
// lost, and an async invocation found cut off by two deaths is a poison pill: HOST_CRASHED.
import t, { type Test } from 'tap';
import { createServer } from 'node:net';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { startWispProcess, type WispProcess } from './helpers/process.js';
import { tempDir } from './helpers/temp-dir.js';

// Measuring a huge cons string flattens it inside V8's C++: near the heap cap that is a fatal
// out-of-memory for the process, not the worker's catchable one.
const FATAL = `export const config = { retries: 5 };
export default () => { const s = 'x'.repeat(50 * 1024 * 1024); const joined = JSON.stringify(s) + s; return Buffer.byteLength(joined); };`;
const HELLO = 'export default (input: { name: string }) => ({ hello: input.name });';

async function send(url: string, init: RequestInit = {}): Promise<Response | undefined> {
  try {
    return await fetch(url, init);
  } catch {
    return undefined; // the gateway died under the request, or is restarting
  }
}

async function deploy(wisp: WispProcess, name: string, source: string): Promise<void> {
  const res = await send(`${wisp.url}/v1/functions/${name}`, { method: 'PUT', headers: { 'content-type': 'application/typescript' }, body: source });
  if (res?.status !== 201) throw new Error(`deploy ${name}: ${res?.status} ${await res?.text()}`);
}

/** Resolves with the first answer of `url` that `accept` takes, retrying across restarts. */
async function until<T>(url: string, accept: (body: T) => boolean): Promise<T> {
  for (;;) {
    const res = await send(url);
    if (res?.ok) {
      const body = (await res.json()) as T;
      if (accept(body)) return body;
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

async function assertServing(t: Test, wisp: WispProcess, after: string): Promise<void> {
  await until(`${wisp.url}/healthz`, () => true);
  const res = await send(`${wisp.url}/v1/functions/hello/invoke`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"name":"Ann"}' });
  t.same(await res?.json(), { hello: 'Ann' }, `after ${after}: the restarted gateway serves the functions deployed before`);
}

t.test('an async invocation that kills the process twice fails HOST_CRASHED; no crash loop', async (t) => {
  const wisp = await startWispProcess(join(tempDir(), 'data'), {}, { supervised: true });
  t.teardown(() => void wisp.child.kill('SIGKILL'));
  await deploy(wisp, 'fatal', FATAL);
  await deploy(wisp, 'hello', HELLO);
  let deaths = 0;
  void wisp.line(/the gateway died \(signal SIGABRT\); restarting it/).then(() => deaths++);
  const submitted = await send(`${wisp.url}/v1/functions/fatal/invocations`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
  t.equal(submitted?.status, 202);
  const { id } = (await submitted!.json()) as { id: string };
  const record = await until<{ status: string; error: { code: string; message: string } | null }>(`${wisp.url}/v1/invocations/${id}`, (r) => r.status === 'failed');
  t.equal(record.error?.code, 'HOST_CRASHED', `it failed as a poison pill (${record.error?.message})`);
  t.ok(deaths >= 1, 'the supervisor restarted the gateway');
  t.match(record.error?.message, /was running each of the 2 times Wisp died/);
  const deadLetters = await until<{ invocations: { id: string }[] }>(`${wisp.url}/v1/invocations?status=failed`, () => true);
  t.ok(deadLetters.invocations.some((i) => i.id === id), 'the dead-letter view lists it');
  await assertServing(t, wisp, 'two deaths');
  wisp.child.kill('SIGTERM');
  t.same(await wisp.exited, [0, null], 'SIGTERM reaches the gateway, which stops cleanly, and the supervisor with it');
});

t.test('a synchronous call that kills the process: the gateway is back, nothing deployed lost', async (t) => {
  const wisp = await startWispProcess(join(tempDir(), 'data'), {}, { supervised: true });
  t.teardown(() => void wisp.child.kill('SIGKILL'));
  await deploy(wisp, 'fatal', FATAL);
  await deploy(wisp, 'hello', HELLO);
  const died = wisp.line(/the gateway died/);
  const res = await send(`${wisp.url}/v1/functions/fatal/invoke`, { method: 'POST' });
  t.equal(res, undefined, 'the call that killed it gets no answer');
  await died;
  await assertServing(t, wisp, 'a fatal sync call');
});

t.test('a gateway that cannot start is not restarted in a loop', async (t) => {
  const taken = createServer();
  taken.listen(0, '127.0.0.1');
  await once(taken, 'listening');
  t.teardown(() => void taken.close());
  const port = (taken.address() as AddressInfo).port;
  await t.rejects(startWispProcess(join(tempDir(), 'data'), { WISP_PORT: String(port) }, { supervised: true }), /exited with [1-9]/);
});
