// Placement is pure: the asked node while it stays at most half used, then the node with the
// most room; with no room anywhere, what each node lacks.
import t from 'tap';
import { describeShortfalls, placeInstance } from '../../dist/cluster/placement.js';

const node = (id: string, usedMemory: number, custom: Record<string, number> = {}) => ({
  id,
  capacity: { cpu: 4000, memory: 1000, custom },
  allocated: { cpu: 0, memory: usedMemory, custom: {} },
});
const ask = (memory: number, custom: Record<string, number> = {}) => ({ cpu: 100, memory, custom });

t.test('the asked node keeps an instance while it stays at most half used', async (t) => {
  t.same(placeInstance([node('a', 0), node('b', 0), node('c', 300)], ask(200), 'c'), { ok: true, order: ['c', 'a', 'b'] });
});

t.test('past half, the node with the most room comes first, the asked one as a fallback', async (t) => {
  t.same(placeInstance([node('a', 600), node('b', 100), node('c', 400)], ask(200), 'a'), { ok: true, order: ['b', 'c', 'a'] });
});

t.test('a node without the custom resource, or the room, is not a candidate', async (t) => {
  const placed = placeInstance([node('a', 0), node('b', 950, { gpu: 1 }), node('c', 0, { gpu: 1 })], ask(100, { gpu: 1 }), 'a');
  t.same(placed, { ok: true, order: ['c'] });
});

t.test('with no room anywhere, each node says what it lacks', async (t) => {
  const placed = placeInstance([node('a', 900), node('b', 950, { gpu: 1 })], ask(200, { gpu: 1 }), 'a');
  t.equal(placed.ok, false);
  if (placed.ok) return;
  t.equal(
    describeShortfalls(placed.shortfalls),
    'node a: memory: asked 200 MiB, 100 of 1000 free (short by 100); gpu: asked 1, not offered by this node (short by 1); node b: memory: asked 200 MiB, 50 of 1000 free (short by 150)',
  );
  t.same(placed.shortfalls.map((s) => s.short), [{ memory: 100, custom: { gpu: 1 } }, { memory: 150 }]);
  t.equal(describeShortfalls([]), 'no live node can take instances');
});

t.test('a node that stopped renewing its lease takes no new work, before it is declared dead', async (t) => {
  const { placeable } = await import('../../dist/cluster/peers.js');
  const record = { id: 'a', incarnation: 1, address: 'http://127.0.0.1:1', state: 'active' as const, leaseUntil: 1000, renewedAt: 0, capacity: node('a', 0).capacity, allocated: node('a', 0).allocated, instances: 0 };
  t.equal(placeable(record, 1000), true, 'within its lease');
  t.equal(placeable(record, 1001), false, 'its lease ran out: skipped, though still active');
  t.equal(placeable({ ...record, address: null }, 0), false, 'not listening yet');
  t.equal(placeable({ ...record, state: 'left' }, 0), false, 'gone');
});
