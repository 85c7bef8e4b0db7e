// The in-memory history of synchronous and nested calls charges everything a record holds —
// input, result, error and logs — so no mix of calls can hold more than its budget. It used to
// count only results and logs: ~700 errors with 2 MB messages, or nested calls with 4 MB inputs,
// exhausted the gateway's heap.
import t from 'tap';
import { SyncHistory } from '../../dist/invocations/sync-history.js';
import { WispError } from '../../dist/errors.js';
import { jsonSizeAtLeast } from '../../dist/runtime/json-size.js';
import type { CallSummary } from '../../dist/invocations/call-summary.js';

const BUDGET = 4 * 2 ** 20;

/** A nested call's summary, its input measured as the calling worker measures it. */
function call(id: number, parts: Partial<CallSummary>): CallSummary {
  const input = parts.input ?? null;
  return { id: `c${id}`, function: 'f', version: 1, mode: 'nested', parentId: null, startedAt: 0, finishedAt: 1, resultJson: null, error: null, logs: [], ...parts, input, inputBytes: jsonSizeAtLeast(input, Infinity) };
}

t.test('errors, inputs, results and logs all count against the budget', async (t) => {
  const history = new SyncHistory(BUDGET);
  const big = 'x'.repeat(256 * 1024);
  for (let i = 0; i < 400; i++) {
    const kind = i % 4;
    history.add(
      call(i, {
        input: kind === 0 ? { body: big } : null,
        error: kind === 1 ? new WispError('FUNCTION_ERROR', `upstream said: ${big}`, { error: { name: 'Error', message: big, stack: big } }) : null,
        resultJson: kind === 2 ? JSON.stringify(big) : null,
        logs: kind === 3 ? [{ time: 0, level: 'log', message: big, attempt: 1 }] : [],
      }),
    );
    t.ok(history.bytesHeld <= BUDGET, `after ${i + 1} calls the history holds ${history.bytesHeld} bytes`);
  }
  // What is held is really there: each kept record carries its whole payload.
  const held = [...Array(400).keys()].filter((i) => history.get(`c${i}`) !== undefined).length;
  t.ok(held > 0 && held * 256 * 1024 <= BUDGET, `${held} calls kept, within the budget by their payload`);
  t.ok(history.get('c399') !== undefined && history.get('c0') === undefined, 'the oldest go first');
});

t.test('a call larger than the whole budget is not kept at all', async (t) => {
  const history = new SyncHistory(1024 * 1024);
  history.add(call(1, { input: { body: 'y'.repeat(2 * 1024 * 1024) } }));
  t.equal(history.get('c1'), undefined);
  t.equal(history.bytesHeld, 0);
});
