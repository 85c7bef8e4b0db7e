// Deadlines without Piscina's abort: each worker may hold two tasks, so these tests pin the pool to
// one thread and check that a runaway task only ever costs its own call.
import t from 'tap';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { assertProblem, invoke, mustDeploy, startWisp } from '../helpers/wisp.js';
import { tempDir } from '../helpers/temp-dir.js';

const oneThread = { pool: { maxThreads: 1, minThreads: 1 } };

t.test('a call sharing a thread with a runaway is run again, not failed with it', async (t) => {
  const app = await startWisp(t, oneThread);
  await mustDeploy(t, app, 'spin', 'export const config = { timeoutMs: 300 };\nexport default () => { for (;;) {} };');
  await mustDeploy(t, app, 'fine', 'export default (n: number) => n * 2;');
  const spinning = invoke(app, 'spin');
  const bystander = invoke(app, 'fine', 21);
  assertProblem(t, await spinning, 504, 'FUNCTION_TIMEOUT');
  const res = await bystander;
  t.equal(res.statusCode, 200, res.body);
  t.equal(res.body, '42');
  t.equal((await invoke(app, 'fine', 1)).body, '2', 'the replacement thread serves the next call');
});

t.test('a call that waited in the queue past its deadline is answered 504 and never runs', async (t) => {
  const dir = tempDir();
  const app = await startWisp(t, oneThread, join(dir, 'data'));
  const marker = join(dir, 'ran');
  // Two slow calls fill the only thread's two slots, so the third waits in Piscina's queue.
  await mustDeploy(t, app, 'slow', 'export const config = { timeoutMs: 5000 };\nexport default () => { const end = Date.now() + 400; while (Date.now() < end); return "done"; };');
  await mustDeploy(
    t,
    app,
    'mark',
    'import { writeFileSync } from "node:fs";\nexport const config = { timeoutMs: 100 };\nexport default (path: string) => { writeFileSync(path, "x"); return "marked"; };',
  );
  await mustDeploy(t, app, 'fine', 'export default () => "fine";');
  const slow = [invoke(app, 'slow'), invoke(app, 'slow')];
  assertProblem(t, await invoke(app, 'mark', marker), 504, 'FUNCTION_TIMEOUT');
  for (const res of await Promise.all(slow)) t.equal(res.body, '"done"', 'the slow calls were not disturbed');
  // The queue is first in, first out: once this call is answered, the expired one has come up.
  t.equal((await invoke(app, 'fine')).body, '"fine"');
  t.notOk(existsSync(marker), 'the expired call did not run');
});

t.test('closing right after a deadline stops the pool instead of waiting forever', async (t) => {
  const app = await startWisp(t, { functions: { loadTimeoutMs: 300 } });
  assertProblem(t, await app.inject({ method: 'PUT', url: '/v1/functions/spin', headers: { 'content-type': 'application/typescript' }, payload: 'for (;;) {}\nexport default 1;' }), 400, 'INVALID_FUNCTION');
  // The timed-out thread is still being terminated now; Piscina's own close() never returned here.
  await app.close();
  t.pass('closed');
});
