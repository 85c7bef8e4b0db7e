// One function's changes to globals and built-ins never reach another function: the pool thread
// a changed function ran on is retired before a different function runs there.
import t from 'tap';
import { assertUnharmed, deployBystander } from '../helpers/bystander.js';
import { invoke, mustDeploy, startWisp, type App } from '../helpers/wisp.js';

const OBSERVER = `export default () => ({
  polluted: ({} as any).polluted ?? null,
  stringify: JSON.stringify({ a: 1 }),
  shout: typeof (String.prototype as any).shout,
  global: typeof (globalThis as any).leakedGlobal,
});`;
const CLEAN = { polluted: null, stringify: '{"a":1}', shout: 'undefined', global: 'undefined' };

async function observe(app: App) {
  const res = await invoke(app, 'observer');
  return res.json();
}

t.test('prototype pollution, a replaced JSON.stringify and a new global stay with their function', async (t) => {
  const app = await startWisp(t, { pool: { maxThreads: 1 } });
  await deployBystander(t, app);
  await mustDeploy(t, app, 'observer', OBSERVER);
  t.same(await observe(app), CLEAN, 'before: the built-ins are as Node made them');
  const culprits: [string, string][] = [
    ['polluter', 'export default () => { (Object.prototype as any).polluted = "yes"; return "done"; };'],
    ['stringifier', 'export default () => { JSON.stringify = () => "hijacked"; return "done"; };'],
    ['monkey', 'export default () => { (String.prototype as any).shout = function () { return this.toUpperCase(); }; return "done"; };'],
    ['leaker', 'export default () => { (globalThis as any).leakedGlobal = 1; return "done"; };'],
  ];
  for (const [name, source] of culprits) {
    await mustDeploy(t, app, name, source);
    t.equal((await invoke(app, name)).json(), 'done', `${name} ran`);
    t.same(await observe(app), CLEAN, `after ${name}: another function sees none of it`);
  }
  const metrics = (await app.inject('/metrics')).body;
  for (const [name] of culprits) t.match(metrics, new RegExp(`wisp_pool_threads_retired_total\\{function="${name}"\\} 1`), `${name} is blamed`);
  t.notMatch(metrics, /wisp_pool_threads_retired_total\{function="observer"\}/, 'the observer is never blamed');
  await assertUnharmed(t, app, 'changed built-ins');
});

t.test('a function that changes a built-in at load still sees its own change', async (t) => {
  const app = await startWisp(t, { pool: { maxThreads: 1 } });
  await mustDeploy(t, app, 'polyfill', '(Array.prototype as any).last = function () { return this[this.length - 1]; };\nexport default () => ([1, 2, 3] as any).last();');
  await mustDeploy(t, app, 'observer', OBSERVER);
  t.equal((await invoke(app, 'polyfill')).json(), 3);
  t.equal((await invoke(app, 'polyfill')).json(), 3, 'and again, on the same thread');
  t.same(await observe(app), CLEAN);
  t.equal((await invoke(app, 'polyfill')).json(), 3, 'and after another function ran, on a fresh thread');
});
