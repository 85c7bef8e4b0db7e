// Cron triggers on a manual clock: runs become asynchronous invocations carrying the trigger id,
// a run does not start while the previous one is unfinished (unless overlap is allowed), and
// times missed while Wisp was down are run once, or skipped, as the trigger says.
import t from 'tap';
import { join } from 'node:path';
import { startGate } from '../helpers/gate.js';
import { waitFinal, type InvocationBody } from '../helpers/invocations.js';
import { ManualClock } from '../helpers/manual-clock.js';
import { assertProblem, mustDeploy, startWisp, type App } from '../helpers/wisp.js';
import { tempDir } from '../helpers/temp-dir.js';

// A round start keeps the schedule arithmetic readable: 2026-01-01T00:00:00Z.
const START = Date.UTC(2026, 0, 1);

async function createCron(app: App, fn: string, body: Record<string, unknown>) {
  return app.inject({ method: 'POST', url: `/v1/functions/${fn}/triggers`, headers: { 'content-type': 'application/json' }, payload: JSON.stringify({ type: 'cron', ...body }) });
}

/** The trigger's invocations, oldest first, once there are at least `count` (yielding, never sleeping). */
async function invocations(app: App, triggerId: string, count: number): Promise<InvocationBody[]> {
  for (let turn = 0; turn < 10_000; turn++) {
    const all: InvocationBody[] = (await app.inject('/v1/invocations?limit=1000')).json().invocations;
    const mine = all.filter((i) => i.triggerId === triggerId).reverse();
    if (mine.length >= count) return mine;
    await new Promise((resolve) => setImmediate(resolve));
  }
  throw new Error(`trigger ${triggerId} never reached ${count} invocations`);
}

t.test('each scheduled time runs the function once, with the time as input', async (t) => {
  const clock = new ManualClock(START);
  const app = await startWisp(t, {}, tempDir(), { clock });
  await mustDeploy(t, app, 'tick', 'export default (input: unknown) => input;');
  const res = await createCron(app, 'tick', { schedule: '*/10 * * * * *', input: { hello: 'cron' } });
  t.equal(res.statusCode, 201, res.body);
  const trigger = res.json();
  t.equal(trigger.nextRunAt, '2026-01-01T00:00:10.000Z');
  t.equal(trigger.overlap, 'skip');
  t.equal(trigger.missed, 'once');
  clock.advance(10_000);
  const [first] = await invocations(app, trigger.id, 1);
  const done = await waitFinal(app, first!.id);
  t.same(done.result, { source: 'cron', id: '2026-01-01T00:00:10.000Z', type: 'cron', schedule: '*/10 * * * * *', scheduledAt: '2026-01-01T00:00:10.000Z', payload: { hello: 'cron' } });
  for (const n of [2, 3]) {
    clock.advance(10_000);
    await waitFinal(app, (await invocations(app, trigger.id, n))[n - 1]!.id);
  }
  const all = await invocations(app, trigger.id, 3);
  t.same(
    all.map((i) => (i.input as { scheduledAt: string }).scheduledAt),
    ['2026-01-01T00:00:10.000Z', '2026-01-01T00:00:20.000Z', '2026-01-01T00:00:30.000Z'],
  );
  const read = (await app.inject(`/v1/functions/tick/triggers/${trigger.id}`)).json();
  t.equal(read.lastScheduledAt, '2026-01-01T00:00:30.000Z');
  t.equal(read.nextRunAt, '2026-01-01T00:00:40.000Z');
  t.equal((await app.inject({ method: 'DELETE', url: `/v1/functions/tick/triggers/${trigger.id}` })).statusCode, 204);
  clock.advance(60_000);
  t.equal((await invocations(app, trigger.id, 3)).length, 3, 'a deleted trigger runs no more');
});

t.test('a run does not start while the previous one is unfinished; with overlap allowed it does', async (t) => {
  const clock = new ManualClock(START);
  const app = await startWisp(t, {}, tempDir(), { clock });
  const gate = await startGate(t);
  await mustDeploy(t, app, 'slow', `export const config = { timeoutMs: 600000 };\nexport default async () => (await fetch(${JSON.stringify(gate.url)})).text();`);
  const skip = (await createCron(app, 'slow', { schedule: '* * * * *' })).json();
  const allow = (await createCron(app, 'slow', { schedule: '* * * * *', overlap: 'allow' })).json();
  clock.advance(60_000);
  await invocations(app, skip.id, 1);
  await invocations(app, allow.id, 1);
  await gate.arrived(2);
  clock.advance(60_000);
  await invocations(app, allow.id, 2);
  await gate.arrived(3);
  t.equal((await invocations(app, skip.id, 1)).length, 1, 'the skipping trigger did not start a second run');
  gate.open();
  for (const invocation of await invocations(app, skip.id, 1)) await waitFinal(app, invocation.id);
  clock.advance(60_000);
  const after = await invocations(app, skip.id, 2);
  t.equal((after[1]!.input as { scheduledAt: string }).scheduledAt, '2026-01-01T00:03:00.000Z', 'it runs again at the next time once the previous run is over');
});

t.test('times missed while Wisp was down: "once" runs the latest of them once, "skip" runs none', async (t) => {
  const dir = join(tempDir(), 'data');
  const before = await startWisp(t, {}, dir, { clock: new ManualClock(START) });
  await mustDeploy(t, before, 'tick', 'export default () => "ran";');
  const once = (await createCron(before, 'tick', { schedule: '0 * * * *' })).json();
  const skip = (await createCron(before, 'tick', { schedule: '0 * * * *', missed: 'skip' })).json();
  await before.close();
  // Down from 00:00 until 05:30: five hourly times (01:00 … 05:00) were missed.
  const clock = new ManualClock(START + 5.5 * 3_600_000);
  const after = await startWisp(t, {}, dir, { clock });
  const [caughtUp] = await invocations(after, once.id, 1);
  t.equal((caughtUp!.input as { scheduledAt: string }).scheduledAt, '2026-01-01T05:00:00.000Z', 'one run, for the latest missed time');
  t.equal((await waitFinal(after, caughtUp!.id)).status, 'succeeded');
  const skipped = (await after.inject(`/v1/functions/tick/triggers/${skip.id}`)).json();
  t.equal(skipped.lastScheduledAt, '2026-01-01T05:00:00.000Z', 'the missed times are marked handled');
  t.equal(skipped.nextRunAt, '2026-01-01T06:00:00.000Z');
  clock.advance(30 * 60_000);
  t.equal((await invocations(after, skip.id, 1)).length, 1, 'the skipping trigger runs at the next time');
  t.equal((await invocations(after, once.id, 2)).length, 2);
});

t.test('bad schedules and time zones are 400; a cron trigger has no secret to rotate', async (t) => {
  const app = await startWisp(t);
  await mustDeploy(t, app, 'tick', 'export default () => 1;');
  t.match(assertProblem(t, await createCron(app, 'tick', { schedule: 'every minute' }), 400, 'INVALID_REQUEST').detail, /schedule/);
  t.match(assertProblem(t, await createCron(app, 'tick', { schedule: '* * * * *', timezone: 'Mars/Olympus' }), 400, 'INVALID_REQUEST').detail, /timezone/i);
  assertProblem(t, await createCron(app, 'tick', { schedule: '* * * * *', overlap: 'sometimes' }), 400, 'INVALID_REQUEST');
  const zoned = await createCron(app, 'tick', { schedule: '0 9 * * *', timezone: 'Europe/Oslo' });
  t.equal(zoned.statusCode, 201, zoned.body);
  t.match(zoned.json().nextRunAt, /T08:00:00.000Z$/, '09:00 in Oslo in winter is 08:00 UTC');
  const rotate = await app.inject({
    method: 'POST',
    url: `/v1/functions/tick/triggers/${zoned.json().id}/rotate`,
    headers: { 'content-type': 'application/json' },
    payload: '{"secret":"abcdefgh"}',
  });
  assertProblem(t, rotate, 400, 'INVALID_REQUEST');
  assertProblem(t, await app.inject({ method: 'POST', url: `/hooks/${zoned.json().id}`, payload: '{}' }), 404, 'TRIGGER_NOT_FOUND');
});
