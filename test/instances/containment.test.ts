// Containment of what an instance holds or returns: a checkpoint past its limit is refused with
// 422 CHECKPOINT_FAILED before anything is copied (serializing a state near the thread's heap cap
// inside V8 aborts the whole process, not the thread), a checkpoint on disk past the limit is not
// restored, and a huge method result is 502 RESULT_TOO_LARGE. After each, the gateway still
// answers and an unrelated function still runs.
import t, { type Test } from 'tap';
import { assertProblem, invoke, mustDeploy, startWisp, type App } from '../helpers/wisp.js';
import { callMethod, instanceAction, mustCreate, roomy } from '../helpers/instances.js';
import type { ConfigOverrides } from '../../dist/config.js';
import { tempDir } from '../helpers/temp-dir.js';

// A class the way a user writes one: state in fields, filled by methods.
const HOARDER = `
export const config = { timeoutMs: 60000 };
export class Hoarder {
  text = '';
  numbers: number[] = [];
  /** A string of n MiB, built by concatenation the way text accumulates. */
  keepText(mb: number) {
    let text = '';
    const line = 'abcdefghijklmnopqrstuvwxyz012345'.repeat(32); // 1 KiB
    for (let i = 0; i < mb * 1024; i++) text += line;
    this.text = text;
    return this.text.length;
  }
  /** n characters past U+00FF: one character each for the estimate, two bytes each serialized. */
  keepWideText(n: number) {
    this.text = 'é€'.repeat(n / 2);
    return this.text.length;
  }
  keepNumbers(count: number) {
    this.numbers = Array.from({ length: count }, (_, i) => i % 1000);
    return this.numbers.length;
  }
  sizes() {
    return [this.text.length, this.numbers.length];
  }
  huge(mb: number) {
    return 'y'.repeat(mb * 1024 * 1024);
  }
}
`;

const small = { cpu: 100, memory: 64 };
const MIB = 2 ** 20;

async function startHoarding(t: Test, overrides: ConfigOverrides = roomy, dataDir?: string): Promise<App> {
  const app = await startWisp(t, { ...roomy, ...overrides }, dataDir);
  await mustDeploy(t, app, 'hoarder', HOARDER);
  await mustDeploy(t, app, 'hello', 'export default (name: string) => `hello ${name}`;');
  return app;
}

/** The gateway answers and an unrelated function still runs. */
async function stillServing(t: Test, app: App): Promise<void> {
  t.equal((await app.inject('/healthz')).statusCode, 200, '/healthz answers');
  const res = await invoke(app, 'hello', 'there');
  t.equal(res.statusCode, 200, `an unrelated function runs (${res.body.slice(0, 200)})`);
  t.equal(res.json(), 'hello there');
}

t.test('a 40 MiB string in a 64 MiB instance: suspend is 422 CHECKPOINT_FAILED, again and again, and the instance keeps running', async (t) => {
  const app = await startHoarding(t);
  const id = await mustCreate(t, app, 'hoarder', { resources: small });
  t.equal((await callMethod(app, id, 'keepText', [40])).json(), 40 * MIB);
  const first = assertProblem(t, await instanceAction(app, id, 'suspend'), 422, 'CHECKPOINT_FAILED');
  t.match(first.detail, /its state is at least \d+ bytes/, 'the detail says the size');
  t.match(first.detail, new RegExp(`over the ${16 * MIB}-byte checkpoint limit`), 'and the limit: a quarter of 64 MiB');
  const size = Number(/at least (\d+) bytes/.exec(first.detail as string)?.[1]);
  t.ok(size > 16 * MIB, `the size said (${size}) is past the limit`);
  t.equal((await app.inject(`/v1/instances/${id}`)).json().status, 'running', 'the instance was not suspended');
  t.equal((await instanceAction(app, id, 'resume')).json().status, 'running', 'resume of a running instance is harmless');
  assertProblem(t, await instanceAction(app, id, 'suspend'), 422, 'CHECKPOINT_FAILED');
  t.same((await callMethod(app, id, 'sizes')).json(), [40 * MIB, 0], 'its state is untouched');
  await stillServing(t, app);
});

t.test('an array of ten million numbers in a 64 MiB instance (which aborted the process in the serializer) is refused too', async (t) => {
  const app = await startHoarding(t);
  const id = await mustCreate(t, app, 'hoarder', { resources: small });
  t.equal((await callMethod(app, id, 'keepNumbers', [10_000_000])).json(), 10_000_000);
  for (let i = 0; i < 2; i++) {
    const problem = assertProblem(t, await instanceAction(app, id, 'suspend'), 422, 'CHECKPOINT_FAILED');
    t.match(problem.detail, new RegExp(`over the ${16 * MIB}-byte checkpoint limit`));
  }
  t.same((await callMethod(app, id, 'sizes')).json(), [0, 10_000_000]);
  await stillServing(t, app);
});

t.test('a state within the limit still suspends and resumes, twice', async (t) => {
  const app = await startHoarding(t);
  const id = await mustCreate(t, app, 'hoarder', { resources: small });
  await callMethod(app, id, 'keepText', [8]);
  await callMethod(app, id, 'keepNumbers', [100_000]);
  for (let i = 0; i < 2; i++) {
    t.equal((await instanceAction(app, id, 'suspend')).json().status, 'suspended');
    t.equal((await instanceAction(app, id, 'resume')).json().status, 'running');
    t.same((await callMethod(app, id, 'sizes')).json(), [8 * MIB, 100_000], 'the state came back whole');
  }
  await stillServing(t, app);
});

t.test('instances.checkpointBytes sets the limit; the bytes are checked again once serialized', async (t) => {
  const app = await startHoarding(t, { instances: { checkpointBytes: MIB } });
  const id = await mustCreate(t, app, 'hoarder', { resources: { cpu: 100, memory: 256 } });
  await callMethod(app, id, 'keepText', [2]);
  const measured = assertProblem(t, await instanceAction(app, id, 'suspend'), 422, 'CHECKPOINT_FAILED');
  t.match(measured.detail, new RegExp(`at least \\d+ bytes \\(measured before serializing\\), over the ${MIB}-byte checkpoint limit`));
  // 900 Ki characters pass the estimate (a character each) but serialize to two bytes each.
  await callMethod(app, id, 'keepWideText', [900 * 1024]);
  const serialized = assertProblem(t, await instanceAction(app, id, 'suspend'), 422, 'CHECKPOINT_FAILED');
  t.match(serialized.detail, new RegExp(`its state is \\d+ bytes serialized, over the ${MIB}-byte checkpoint limit`));
  t.ok(Number(/is (\d+) bytes serialized/.exec(serialized.detail as string)?.[1]) > 2 * 900 * 1024, 'two bytes a character');
  t.equal((await app.inject(`/v1/instances/${id}`)).json().status, 'running');
  await stillServing(t, app);
});

t.test('a checkpoint on disk past the limit now in force is not restored: resume is 422 and the instance stays suspended', async (t) => {
  const dataDir = tempDir();
  const before = await startHoarding(t, {}, dataDir);
  const id = await mustCreate(t, before, 'hoarder', { resources: { cpu: 100, memory: 256 } });
  await callMethod(before, id, 'keepText', [4]);
  t.equal((await instanceAction(before, id, 'suspend')).json().status, 'suspended', 'written under the default limit');
  await before.close();

  const after = await startWisp(t, { ...roomy, instances: { checkpointBytes: MIB } }, dataDir);
  const problem = assertProblem(t, await instanceAction(after, id, 'resume'), 422, 'INSTANCE_INIT_FAILED');
  t.match(problem.detail, new RegExp(`its checkpoint is \\d+ bytes, over the ${MIB}-byte checkpoint limit`));
  t.equal((await after.inject(`/v1/instances/${id}`)).json().status, 'suspended');
  t.same((await after.inject('/v1/node')).json().resources.allocated, { cpu: 0, memory: 0, custom: {} }, 'nothing is held');
  await mustDeploy(t, after, 'hello', 'export default (name: string) => `hello ${name}`;');
  await stillServing(t, after);
});

t.test('a 50 MB string returned from a method is 502 RESULT_TOO_LARGE; the instance and the gateway stay up', async (t) => {
  const app = await startHoarding(t);
  const id = await mustCreate(t, app, 'hoarder', { resources: { cpu: 100, memory: 128 } });
  const problem = assertProblem(t, await callMethod(app, id, 'huge', [50]), 502, 'RESULT_TOO_LARGE');
  t.match(problem.detail, new RegExp(`instance ${id} method huge`));
  t.same((await callMethod(app, id, 'sizes')).json(), [0, 0], 'the instance still answers');
  await stillServing(t, app);
});
