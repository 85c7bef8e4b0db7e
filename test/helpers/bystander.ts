// After each hostile call, containment tests check that the gateway still answers and that a
// function that did nothing wrong still runs and answers correctly.
import type { Test } from 'tap';
import { invoke, mustDeploy, type App } from './wisp.js';

const BYSTANDER = 'export default (input: { n: number }) => ({ doubled: input.n * 2 });';

/** Deploys the innocent function; call before the hostile ones. */
export async function deployBystander(t: Test, app: App): Promise<void> {
  await mustDeploy(t, app, 'bystander', BYSTANDER);
}

export async function assertUnharmed(t: Test, app: App, after: string): Promise<void> {
  t.equal((await app.inject('/healthz')).statusCode, 200, `after ${after}: /healthz answers`);
  const res = await invoke(app, 'bystander', { n: 21 });
  t.equal(res.statusCode, 200, `after ${after}: an unrelated function still runs`);
  t.same(res.json(), { doubled: 42 }, `after ${after}: and answers correctly`);
}
