// Concurrency control by arguments (a function's config.concurrencyControl, pynenc's reused
// invocations): calls pending at once with one key run once. `reuse` gives a second
// asynchronous submission the pending invocation (200, Reused: true) and lets a second
// synchronous call join the running one's answer; `reject` refuses it with 409
// INVOCATION_PENDING naming the pending one. The key is the function and its input as canonical
// JSON, or the function alone; a final invocation lets its key go.
import t from 'tap';
import { startGate } from '../helpers/gate.js';
import { submit, waitFinal } from '../helpers/invocations.js';
import { assertProblem, deploy, invoke, mustDeploy, startWisp } from '../helpers/wisp.js';

/** Holds each call at the gate in its input until the test opens it. */
const held = (control: string) => `export const config = { concurrencyControl: ${control}, retries: 0 };
export default async (input: { gate: string; n: number }) => { await fetch(input.gate); return { n: input.n }; };`;

t.test('reuse by arguments: of 200 identical submissions at once one invocation runs and every caller gets it', async (t) => {
  const app = await startWisp(t);
  const gate = await startGate(t);
  await mustDeploy(t, app, 'once', held("{ mode: 'reuse' }"));
  const input = { gate: gate.url, n: 1 };
  const answers = await Promise.all(Array.from({ length: 200 }, () => submit(app, 'once', input)));
  const created = answers.filter((res) => res.statusCode === 202);
  const reused = answers.filter((res) => res.statusCode === 200);
  t.equal(created.length, 1, 'one 202');
  t.equal(reused.length, 199, 'and 199 200s');
  const id = created[0]!.json().id;
  t.ok(reused.every((res) => res.json().id === id && res.headers.reused === 'true' && res.headers.location === `/v1/invocations/${id}`), 'each names it, with Reused: true');
  t.equal(created[0]!.headers.reused, undefined, 'the first is not reused');

  // The same input with its keys in another order is the same call; another input is not.
  const swapped = await submit(app, 'once', { n: 1, gate: gate.url });
  t.same([swapped.statusCode, swapped.json().id], [200, id], 'canonical JSON: key order does not matter');
  const other = await submit(app, 'once', { gate: gate.url, n: 2 });
  t.equal(other.statusCode, 202, 'another input is another call');

  await gate.arrived(2);
  gate.open();
  t.same((await waitFinal(app, id)).result, { n: 1 });
  await waitFinal(app, other.json().id);
  t.equal(gate.received(), 2, 'the function ran once per distinct input');
  const listed = (await app.inject('/v1/invocations?function=once')).json().invocations;
  t.equal(listed.filter((i: { mode: string }) => i.mode === 'async').length, 2, 'two invocations stored in all');

  const again = await submit(app, 'once', input);
  t.equal(again.statusCode, 202, 'once final, its key is free: the next submission is new');
  t.not(again.json().id, id);
  await waitFinal(app, again.json().id);
});

t.test('reject by function: a second submission while one is pending is 409 INVOCATION_PENDING naming it', async (t) => {
  const app = await startWisp(t);
  const gate = await startGate(t);
  await mustDeploy(t, app, 'solo', held("{ key: 'function', mode: 'reject' }"));
  const first = await submit(app, 'solo', { gate: gate.url, n: 1 });
  t.equal(first.statusCode, 202);
  const id = first.json().id;
  const second = await submit(app, 'solo', { gate: gate.url, n: 2 });
  const problem = assertProblem(t, second, 409, 'INVOCATION_PENDING');
  t.equal(problem.invocationId, id, 'the problem names the pending invocation');
  t.match(problem.detail, /concurrencyControl/);
  await gate.arrived(1);
  t.equal((await submit(app, 'solo', { gate: gate.url, n: 3 })).statusCode, 409, 'a running one is pending too');
  gate.open();
  await waitFinal(app, id);
  t.equal((await submit(app, 'solo', { gate: gate.url, n: 4 })).statusCode, 202, 'once it is final the next is taken');
});

t.test('synchronous calls: reuse joins the running call (single flight), reject refuses', async (t) => {
  const app = await startWisp(t);
  const gate = await startGate(t);
  await mustDeploy(t, app, 'flight', held("{ mode: 'reuse' }"));
  const input = { gate: gate.url, n: 7 };
  const leader = invoke(app, 'flight', input);
  await gate.arrived(1);
  const joiners = Array.from({ length: 20 }, () => invoke(app, 'flight', input));
  const alone = invoke(app, 'flight', { gate: gate.url, n: 8 });
  await gate.arrived(2);
  gate.open();
  const first = await leader;
  t.equal(first.statusCode, 200);
  t.same(first.json(), { n: 7 });
  t.equal(first.headers.reused, undefined);
  for (const res of await Promise.all(joiners)) {
    if (res.statusCode !== 200 || res.body !== first.body || res.headers.reused !== 'true' || res.headers['x-invocation-id'] !== first.headers['x-invocation-id']) {
      t.fail(`a joiner: ${res.statusCode} ${JSON.stringify(res.headers)} ${res.body}`);
    }
  }
  t.same((await alone).json(), { n: 8 }, 'another input ran on its own');
  t.equal(gate.received(), 2, 'the function ran once per distinct input');
  t.same((await invoke(app, 'flight', input)).headers.reused, undefined, 'after it ended, the next call runs anew');

  await mustDeploy(t, app, 'refuse', held("{ mode: 'reject' }"));
  const busy = invoke(app, 'refuse', { gate: gate.url, n: 1 });
  // The gate is open now; hold at a new one.
  const second = await startGate(t);
  const running = invoke(app, 'refuse', { gate: second.url, n: 1 });
  await second.arrived(1);
  const refused = await invoke(app, 'refuse', { gate: second.url, n: 1 });
  assertProblem(t, refused, 409, 'INVOCATION_PENDING');
  t.type(refused.json().invocationId, 'string');
  second.open();
  t.equal((await running).statusCode, 200);
  t.equal((await busy).statusCode, 200);
});

t.test('a failed call lets its key go, and its joiners get its error', async (t) => {
  const app = await startWisp(t);
  const gate = await startGate(t);
  await mustDeploy(t, app, 'boom', `export const config = { concurrencyControl: { mode: 'reuse' }, retries: 0 };
export default async (input: { gate: string }) => { await fetch(input.gate); throw new Error('boom'); };`);
  const leader = invoke(app, 'boom', { gate: gate.url });
  await gate.arrived(1);
  const joiner = invoke(app, 'boom', { gate: gate.url });
  const queued = await submit(app, 'boom', { gate: gate.url });
  gate.open();
  assertProblem(t, await leader, 500, 'FUNCTION_ERROR');
  const joined = assertProblem(t, await joiner, 500, 'FUNCTION_ERROR');
  t.match(joined.detail, /boom/);
  t.equal((await waitFinal(app, queued.json().id)).status, 'failed');
  t.equal((await submit(app, 'boom', { gate: gate.url })).statusCode, 202, 'a failed one holds no key');
});

t.test('concurrencyControl is checked at deploy and shown in the config', async (t) => {
  const app = await startWisp(t);
  const plain = await mustDeploy(t, app, 'plain', 'export default () => 1;');
  t.same((plain.config as Record<string, unknown>).concurrencyControl, { key: 'arguments', mode: 'off' }, 'off unless set');
  for (const bad of ["{ mode: 'sometimes' }", "{ key: 'input', mode: 'reuse' }", "{ mode: 'reuse', scope: 'all' }", "'reuse'", '{}']) {
    const res = await deploy(app, 'bad', `export const config = { concurrencyControl: ${bad} };\nexport default () => 1;`);
    const problem = assertProblem(t, res, 400, 'INVALID_CONFIG');
    t.match(problem.detail, /concurrencyControl/, `${bad}: says what to fix`);
  }
  const set = await mustDeploy(t, app, 'keyed', "export const config = { concurrencyControl: { key: 'function', mode: 'reject' } };\nexport default () => 1;");
  t.same((set.config as Record<string, unknown>).concurrencyControl, { key: 'function', mode: 'reject' });
  const instance = await mustDeploy(t, app, 'counter-like', `export const config = { concurrencyControl: { mode: 'reject' } };
export class Counter { n = 0; add() { return ++this.n; } }`);
  t.ok(instance, 'a module of classes takes it too; method calls are serialized by their instance already');
});
