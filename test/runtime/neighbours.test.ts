// A call never waits behind another call's runaway loop while a thread is free or can be
// started: one task per pool thread, and the pool grows up to maxThreads. When every thread a
// tier may have is stuck, /healthz says the tier is saturated instead of a plain "ok".
import t from 'tap';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { invoke, mustDeploy, startWisp, type App } from '../helpers/wisp.js';
import { tempDir } from '../helpers/temp-dir.js';

// A synchronous loop, as a runaway holds its thread, but one the test can end: it spins until
// the file it is given exists (so no deadline races the threads' start on a busy machine).
const LOOPER = `import { existsSync } from 'node:fs';
export const config = { timeoutMs: 120000 };
export default (input: { until: string }) => { for (;;) { if (existsSync(input.until)) return 'released'; } };`;

/** A path that does not exist yet. */
function releaseFile(): string {
  return join(mkdtempSync(join(tmpdir(), 'wisp-release-')), 'release');
}

async function busyThreads(app: App): Promise<number> {
  const node = (await app.inject('/v1/node')).json();
  return node.pool.tiers.find((tier: { memoryMb: number; depth: number }) => tier.memoryMb === 128 && tier.depth === 0)?.busy ?? 0;
}

/** Resolves once `count` threads of the default tier run a task (polls the node view). */
async function untilBusy(app: App, count: number): Promise<void> {
  while ((await busyThreads(app)) < count) await new Promise((resolve) => setImmediate(resolve));
}

t.test('calls go to another thread while loops hold some', async (t) => {
  const app = await startWisp(t, { pool: { maxThreads: 4 } });
  await mustDeploy(t, app, 'looper', LOOPER);
  await mustDeploy(t, app, 'quick', 'export default (input: { n: number }) => input.n + 1;');
  const until = releaseFile();
  const loops = [1, 2, 3].map(() => invoke(app, 'looper', { until }));
  await untilBusy(app, 3);
  const quick = await invoke(app, 'quick', { n: 41 });
  t.equal(quick.json(), 42, 'an unrelated call answers while three loops run');
  t.equal((await busyThreads(app)), 3, 'the loops were still running when it answered');
  t.same((await app.inject('/healthz')).json(), { status: 'ok', saturated: [] }, 'a thread was still free: not saturated');
  writeFileSync(until, '');
  for (const loop of await Promise.all(loops)) t.equal(loop.json(), 'released');
});

t.test('/healthz reports a tier whose every thread is stuck', async (t) => {
  const app = await startWisp(t, { pool: { maxThreads: 2 } });
  await mustDeploy(t, app, 'looper', LOOPER);
  await mustDeploy(t, app, 'quick', 'export default () => "quick";');
  const until = releaseFile();
  const loops = [1, 2].map(() => invoke(app, 'looper', { until }));
  await untilBusy(app, 2);
  const waiting = invoke(app, 'quick');
  let health = (await app.inject('/healthz')).json();
  while (health.status !== 'saturated') health = (await app.inject('/healthz')).json();
  t.equal((await app.inject('/healthz')).statusCode, 200, 'still live');
  t.same(health.saturated, [{ memoryMb: 128, depth: 0, busy: 2, queued: 1 }]);
  writeFileSync(until, '');
  t.equal((await waiting).json(), 'quick', 'the waiting call runs once a thread is free');
  await Promise.all(loops);
  t.same((await app.inject('/healthz')).json(), { status: 'ok', saturated: [] });
});
