// Reading results: ?wait long-polls until final, /events streams each state change as server-sent
// events, and final records are purged after the retention period.
import t from 'tap';
import { startGate } from '../helpers/gate.js';
import { getInvocation, mustSubmit, waitFinal, waitStatus } from '../helpers/invocations.js';
import { ManualClock } from '../helpers/manual-clock.js';
import { assertProblem, mustDeploy, startWisp } from '../helpers/wisp.js';
import { tempDir } from '../helpers/temp-dir.js';

t.test('?wait returns as soon as the invocation is final, or at the end of the wait', async (t) => {
  const app = await startWisp(t);
  const gate = await startGate(t);
  await mustDeploy(t, app, 'held', `export default async () => (await fetch(${JSON.stringify(gate.url)})).text();`);
  const id = await mustSubmit(t, app, 'held');
  await gate.arrived(1);
  const short = await getInvocation(app, id, '?wait=0.2');
  t.equal(short.status, 'running', 'a short wait ends with the state then');
  const long = getInvocation(app, id, '?wait=30');
  gate.open();
  const done = await long;
  t.equal(done.status, 'succeeded');
  t.equal(done.result, 'open');
});

t.test('/events streams every state change and ends after the final one', async (t) => {
  const clock = new ManualClock();
  const app = await startWisp(t, {}, tempDir(), { clock });
  const gate = await startGate(t);
  await mustDeploy(
    t,
    app,
    'twice',
    `export const config = { retries: 1, retryBackoffMs: 100 };\nexport default async (_: unknown, ctx: { attempt: number }) => { await fetch(${JSON.stringify(gate.url)}); if (ctx.attempt === 1) throw new Error("once"); return "ok"; };`,
  );
  const id = await mustSubmit(t, app, 'twice');
  await waitStatus(app, id, 'running');
  const stream = app.inject(`/v1/invocations/${id}/events`);
  // The stream has subscribed once the route has run; a change now must reach it.
  await new Promise((resolve) => setImmediate(resolve));
  gate.open();
  await waitStatus(app, id, 'retrying');
  clock.advance(100);
  const res = await stream;
  t.equal(res.statusCode, 200);
  t.match(res.headers['content-type'], /^text\/event-stream/);
  const events = res.body
    .trim()
    .split('\n\n')
    .map((block) => Object.fromEntries(block.split('\n').map((line) => [line.slice(0, line.indexOf(':')), line.slice(line.indexOf(':') + 2)])));
  t.same(
    events.map((e) => e.event),
    ['running', 'retrying', 'running', 'succeeded'],
  );
  t.same(events.map((e) => e.id), ['1', '2', '3', '4']);
  const last = JSON.parse(events.at(-1)!.data as string);
  t.equal(last.id, id);
  t.equal(last.result, 'ok');
  t.equal(last.attempts, 2);
});

t.test('/events of a final invocation is one event; of an unknown one, a 404', async (t) => {
  const app = await startWisp(t);
  await mustDeploy(t, app, 'fine', 'export default () => 1;');
  const id = await mustSubmit(t, app, 'fine');
  await waitFinal(app, id);
  const res = await app.inject(`/v1/invocations/${id}/events`);
  t.match(res.body, /^id: 1\nevent: succeeded\ndata: \{/);
  t.equal(res.body.split('\n\n').filter(Boolean).length, 1);
  assertProblem(t, await app.inject('/v1/invocations/00000000-0000-4000-8000-000000000000/events'), 404, 'INVOCATION_NOT_FOUND');
});

t.test('final records are purged after the retention period; waiting ones are kept', async (t) => {
  const clock = new ManualClock();
  const hour = 3_600_000;
  // Moving the clock by hours fires every timer due meanwhile at once (a lease renewal per 10 s,
  // a reclaim per 30 s: ~1,400, each a store round trip), which on a loaded machine stalls the
  // event loop past the load-shedding limit; that limit is not what this test is about.
  const app = await startWisp(
    t,
    { invocations: { retentionMs: 2 * hour } as never, pressure: { maxEventLoopDelayMs: null, maxHeapUsedBytes: null, maxRssBytes: null, retryAfterSeconds: 5 } },
    tempDir(),
    { clock },
  );
  const gate = await startGate(t);
  await mustDeploy(t, app, 'fine', 'export default () => 1;');
  await mustDeploy(t, app, 'held', `export const config = { timeoutMs: 600000 };\nexport default async () => (await fetch(${JSON.stringify(gate.url)})).text();`);
  const done = await mustSubmit(t, app, 'fine');
  await waitFinal(app, done);
  const running = await mustSubmit(t, app, 'held');
  await gate.arrived(1);
  clock.advance(hour);
  t.equal((await getInvocation(app, done)).status, 'succeeded', 'kept within the retention');
  clock.advance(2 * hour);
  await clock.settled();
  assertProblem(t, await app.inject(`/v1/invocations/${done}`), 404, 'INVOCATION_NOT_FOUND');
  t.equal((await getInvocation(app, running)).status, 'running', 'an unfinished invocation is never purged');
  gate.open();
  await waitFinal(app, running);
});
