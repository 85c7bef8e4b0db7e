// Buffers live outside the V8 heap, so the heap cap does not stop them: the off-heap watchdog
// in each worker does, and its thread is replaced.
import t from 'tap';
import { callMethod, mustCreate, roomy } from '../helpers/instances.js';
import { assertProblem, invoke, mustDeploy, startWisp } from '../helpers/wisp.js';

const HOARDER = `
export const config = { memoryMb: 32 };
const kept: Buffer[] = [];
export default async (input: { mb?: number }) => {
  kept.push(Buffer.alloc((input?.mb ?? 0) * 2 ** 20, 1));
  await new Promise((resolve) => setTimeout(resolve, 3000));
  return 'kept ' + kept.length;
};
export class Hoarder {
  kept: number[] = [];
  async hoard(mb: number) {
    (globalThis as any).held = Buffer.alloc(mb * 2 ** 20, 1);
    await new Promise((resolve) => setTimeout(resolve, 3000));
    return 'kept';
  }
  ping() { return 'pong'; }
}
`;

t.test('a stateless function holding Buffers past its memoryMb crashes its worker, which is replaced', async (t) => {
  const app = await startWisp(t);
  await mustDeploy(t, app, 'hoarder', HOARDER);
  const res = await invoke(app, 'hoarder', { mb: 96 });
  const problem = assertProblem(t, res, 500, 'FUNCTION_CRASHED');
  // Buffer.alloc itself refuses: the check does not wait for a timer.
  t.match(problem.detail, /Buffer\.alloc\(100663296\) would hold \d+ MB outside the heap, past the function's 32 MB memory limit; the worker was recycled/);
  const small = await app.inject({ method: 'POST', url: '/v1/functions/hoarder/invoke', headers: { 'content-type': 'application/json' }, payload: '{"mb":1}' });
  t.equal(small.json(), 'kept 1', 'a fresh worker serves the next call, with none of the old Buffers');
});

t.test('an instance holding Buffers past its memory is stopped the same way', async (t) => {
  const app = await startWisp(t, roomy);
  await mustDeploy(t, app, 'hoarder', HOARDER);
  const id = await mustCreate(t, app, 'hoarder', { class: 'Hoarder', resources: { memory: 32 }, maxRestarts: 1 });
  const res = await callMethod(app, id, 'hoard', [96]);
  t.match(assertProblem(t, res, 500, 'INSTANCE_CRASHED').detail, /Buffer memory \(outside the heap\), past its 32 MB memory limit/);
});
