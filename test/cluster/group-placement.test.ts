// Group placement is pure: pack fills the fullest node that still fits (this node first among
// equals), spread evens the group's members over the nodes; a member that fits nowhere, counting
// the ones placed before it, makes the whole placement fail with each node's shortfall.
import t from 'tap';
import { placeGroup } from '../../dist/cluster/group-placement.js';

const node = (id: string, usedMemory = 0, memory = 1000) => ({ id, capacity: { cpu: 4000, memory, custom: {} }, allocated: { cpu: 0, memory: usedMemory, custom: {} } });
const member = (memory: number) => ({ cpu: 100, memory, custom: {} });

t.test('pack puts the group on as few nodes as it takes, this node first', async (t) => {
  t.same(placeGroup([node('a'), node('b'), node('c')], [member(300), member(300), member(300)], 'pack', 'b'), { ok: true, nodes: ['b', 'b', 'b'] });
  // a is the fullest: it takes three; the fourth goes to b, this node, before the as empty c.
  t.same(placeGroup([node('a', 100), node('b'), node('c')], [member(300), member(300), member(300), member(300)], 'pack', 'b'), { ok: true, nodes: ['a', 'a', 'a', 'b'] });
});

t.test('spread evens the members over the nodes, the emptiest first', async (t) => {
  const placed = placeGroup([node('a'), node('b', 500), node('c')], Array.from({ length: 6 }, () => member(100)), 'spread', 'a');
  t.equal(placed.ok, true);
  if (!placed.ok) return;
  const per = new Map<string, number>();
  for (const id of placed.nodes) per.set(id, (per.get(id) ?? 0) + 1);
  t.same(Object.fromEntries(per), { a: 2, b: 2, c: 2 }, 'two on each');
});

t.test('the largest member is placed first, so the group fits where a first-come order would not', async (t) => {
  // 600 then 300+300 fit in 1000+600 only if the 600 goes to the big node first.
  t.same(placeGroup([node('big'), node('small', 0, 600)], [member(300), member(300), member(600)], 'spread', 'big'), { ok: true, nodes: ['small', 'small', 'big'] });
});

t.test('a member that fits nowhere fails the placement, with every node’s shortfall for it', async (t) => {
  const placed = placeGroup([node('a', 500), node('b', 600)], [member(400), member(400), member(400)], 'pack', 'a');
  t.equal(placed.ok, false);
  if (placed.ok) return;
  t.equal(placed.member, 2, 'the third 400 MiB member finds no node with room after the first two');
  t.same(placed.shortfalls.map((s) => [s.node, s.short.memory]), [['a', 300], ['b', 400]]);
  t.match(placed.shortfalls[0]!.detail, /memory: asked 400 MiB/);
});
