// A fault that surfaces outside a call's own await chain — a throw from a timer left behind, a
// promise rejection nobody handles, Buffer memory still held — is recorded against the function
// whose code caused it, never against the innocent call that happens to run when it surfaces.
// One pool thread in each test, so the innocent call runs exactly where the fault fires.
import t from 'tap';
import { assertUnharmed, deployBystander } from '../helpers/bystander.js';
import { assertProblem, invoke, mustDeploy, startWisp, type App } from '../helpers/wisp.js';

const PATIENT = 'export default async () => { await new Promise((r) => setTimeout(r, 300)); return "patient done"; };';

async function retiredFor(app: App, fn: string): Promise<number> {
  const text = (await app.inject('/metrics')).body;
  const match = new RegExp(`^wisp_pool_threads_retired_total\\{function="${fn}"\\} (\\d+)`, 'm').exec(text);
  return match ? Number(match[1]) : 0;
}

t.test("a timer's throw after its call returned is blamed on that function, not on the next call", async (t) => {
  const app = await startWisp(t, { pool: { maxThreads: 1 } });
  await deployBystander(t, app);
  await mustDeploy(t, app, 'leaky', 'export default () => { setTimeout(() => { throw new Error("late boom"); }, 50); return "returned"; };');
  await mustDeploy(t, app, 'patient', PATIENT);
  t.equal((await invoke(app, 'leaky')).json(), 'returned', 'the leaky call itself succeeded');
  // The leaked timer fires on this thread while the patient call awaits.
  const innocent = await invoke(app, 'patient');
  t.equal(innocent.statusCode, 200, `the innocent call is not failed (${innocent.body.slice(0, 200)})`);
  t.equal(innocent.json(), 'patient done');
  t.equal(await retiredFor(app, 'leaky'), 1, 'the thread was retired, blamed on "leaky"');
  t.equal(await retiredFor(app, 'patient'), 0, 'nothing is blamed on "patient"');
  t.equal((await invoke(app, 'patient')).json(), 'patient done', 'the next call runs on a fresh thread');
  await assertUnharmed(t, app, 'a late throw');
});

t.test('an uncaught throw while the call runs fails that call, with its error', async (t) => {
  const app = await startWisp(t, { pool: { maxThreads: 1 } });
  await deployBystander(t, app);
  await mustDeploy(t, app, 'careless', 'export default async () => { setTimeout(() => { throw new TypeError("from a callback"); }, 10); Promise.reject(new Error("never handled")); await new Promise((r) => setTimeout(r, 200)); return "unreachable"; };');
  const problem = assertProblem(t, await invoke(app, 'careless'), 500, 'FUNCTION_CRASHED');
  t.match(problem.detail, /function "careless" crashed its worker with an error no await caught .*: Error: never handled/);
  t.equal((problem.error as { message: string }).message, 'never handled');
  await assertUnharmed(t, app, 'an uncaught throw during a call');
});

t.test('Buffer memory a function keeps past its limit is its fault, and the next function is not hurt', async (t) => {
  const app = await startWisp(t, { pool: { maxThreads: 1 } });
  await deployBystander(t, app);
  // Typed arrays are not checked when made: the check at the call's end finds them.
  await mustDeploy(t, app, 'hoarder', 'export const config = { memoryMb: 64 };\nconst kept: Uint8Array[] = [];\nexport default (input: { mb: number }) => { kept.push(new Uint8Array(input.mb * 1024 * 1024)); return kept.length; };');
  await mustDeploy(t, app, 'modest', 'export const config = { memoryMb: 64 };\nexport default async () => { await new Promise((r) => setTimeout(r, 50)); return "modest"; };');
  t.match(assertProblem(t, await invoke(app, 'hoarder', { mb: 100 }), 500, 'FUNCTION_CRASHED').detail, /function "hoarder" held 10\d MB of Buffer memory \(outside the heap\), past its 64 MB memory limit/);
  t.equal((await invoke(app, 'modest')).json(), 'modest', 'the next call on that tier runs on a fresh thread');
  t.equal((await invoke(app, 'hoarder', { mb: 1 })).json(), 1, 'the hoarder starts over on a fresh thread, its old Buffers gone');
  await assertUnharmed(t, app, 'held Buffer memory');
});

t.test('a synchronous Buffer.alloc past the limit is refused on the spot', async (t) => {
  const app = await startWisp(t);
  await deployBystander(t, app);
  // It once went through: the watchdog's timer never ran while the call held the thread.
  await mustDeploy(t, app, 'greedy', 'export default () => { try { return Buffer.alloc(3 * 1024 * 1024 * 1024).length; } catch { return "caught it"; } };');
  const problem = assertProblem(t, await invoke(app, 'greedy'), 500, 'FUNCTION_CRASHED');
  t.match(problem.detail, /Buffer\.alloc\(3221225472\) would hold \d+ MB outside the heap, past the function's 128 MB memory limit/, 'catching the RangeError does not hide it');
  await mustDeploy(t, app, 'frugal', 'export default () => Buffer.alloc(8 * 1024 * 1024).length;');
  t.equal((await invoke(app, 'frugal')).json(), 8 * 1024 * 1024, 'an allocation within the limit is untouched');
  await assertUnharmed(t, app, 'a 3 GB Buffer.alloc');
});
