// The output gate: every waiter is released by a checkpoint that started after it asked, and
// waiters that ask during one checkpoint share the next.
import t from 'tap';
import { CheckpointGate } from '../../dist/instances/checkpoint-gate.js';

t.test('calls during a checkpoint share the next one; each waits for one that started after it', async (t) => {
  const started: number[] = [];
  let release: (() => void) | undefined;
  const gate = new CheckpointGate(() => {
    started.push(started.length + 1);
    return new Promise<void>((resolve) => (release = resolve));
  });
  const order: string[] = [];
  const first = gate.commit().then(() => order.push('first'));
  await new Promise((resolve) => setImmediate(resolve));
  const second = gate.commit().then(() => order.push('second'));
  const third = gate.commit().then(() => order.push('third'));
  t.same(started, [1], 'one checkpoint at a time');
  release!();
  await first;
  await new Promise((resolve) => setImmediate(resolve));
  t.same(order, ['first'], 'the later calls wait for a checkpoint that started after them');
  t.same(started, [1, 2], 'and share it');
  release!();
  await Promise.all([second, third]);
  t.same(order, ['first', 'second', 'third']);
});

t.test('a failed checkpoint fails the calls that waited on it, and the next round runs', async (t) => {
  let fail = true;
  const gate = new CheckpointGate(async () => {
    if (fail) throw new Error('disk full');
  });
  await t.rejects(gate.commit(), /disk full/);
  fail = false;
  await gate.commit();
  t.pass('the gate still works');
});
