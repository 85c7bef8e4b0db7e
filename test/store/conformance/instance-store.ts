// What every InstanceStore and GroupStore must do, whichever backend: run by
// test/store/instance-store.test.ts against each one. Round trips in creation order, get-or-create
// by name as one step (two creators of one name: one wins), and a group written with its members
// all or nothing.
import type { Test } from 'tap';
import type { GroupStore } from '../../../dist/store/group-store.js';
import type { InstanceStore } from '../../../dist/store/instance-store.js';
import type { GroupRecord, InstanceRecord } from '../../../dist/store/records.js';

let n = 0;

export function instance(fn: string, name: string | null = null, group: string | null = null): InstanceRecord {
  n++;
  return {
    id: `inst_${n.toString(16).padStart(20, '0')}`,
    function: fn,
    version: 1,
    class: 'Counter',
    name,
    group,
    status: 'running',
    resources: { cpu: 0.5, memory: 64, custom: {} },
    maxRestarts: 2,
    restarts: 0,
    // Shapes a careless store would change on the way through.
    args: [[], {}, 9_007_199_254_740_991, null, 'ünïcode'],
    checkpoint: null,
    checkpointedAt: null,
    createdAt: 1893456000000,
    updatedAt: 1893456000000,
  };
}

function group(name: string, members: InstanceRecord[]): GroupRecord {
  return {
    name,
    status: 'running',
    members: members.map((m) => m.id),
    policy: { onMemberFailure: 'fail', maxRestarts: 0 },
    restarts: 0,
    failure: null,
    generation: 0,
    createdAt: 1893456000000,
    updatedAt: 1893456000000,
  };
}

export interface InstanceStores {
  instances: InstanceStore;
  groups: GroupStore;
}

export function instanceStoreConformance(t: Test, make: () => Promise<InstanceStores>): void {
  t.test('create, save, delete; list in creation order, saves keeping the order', async (t) => {
    const { instances } = await make();
    const a = instance('alpha');
    const b = instance('alpha', 'room-1');
    const c = instance('beta');
    for (const record of [a, b, c]) t.same(await instances.create(record), { created: true, record });
    t.same(await instances.list(), [a, b, c], 'exactly as written');
    const suspended = { ...a, status: 'suspended' as const, checkpoint: 'ab'.repeat(32), updatedAt: 1893542400000 };
    await instances.save(suspended);
    t.same(await instances.list(), [suspended, b, c], 'a save keeps its place');
    await instances.delete(b.id);
    await instances.delete(b.id);
    t.same(await instances.list(), [suspended, c], 'deleted, and a second delete is harmless');
    await t.rejects(instances.create({ ...c }), 'one id twice is refused');
  });

  t.test('get reads one record; claim makes a node the owner with the next epoch, one claimer winning', async (t) => {
    const { instances } = await make();
    const a = instance('alpha', 'room-1');
    await instances.create(a);
    t.same(await instances.get(a.id), a);
    t.equal(await instances.get('inst_nobody'), null);
    const claims = await Promise.all([instances.claim(a.id, 0, 'node-1'), instances.claim(a.id, 0, 'node-2')]);
    const won = claims.filter((claim) => claim !== null);
    t.equal(won.length, 1, 'exactly one of two claims of one epoch wins');
    t.same(won[0], { ...a, node: won[0]!.node, epoch: 1 });
    t.same(await instances.get(a.id), won[0], 'get shows the owner');
    t.same((await instances.list())[0], won[0], 'so does list');
    t.same((await instances.create(instance('alpha', 'room-1'))).record, won[0], 'and get-or-create by name');
    t.equal(await instances.claim(a.id, 0, 'node-3'), null, 'an old epoch claims nothing');
    t.equal(await instances.claim('inst_nobody', 0, 'node-3'), null);
  });

  t.test('save writes only over the same epoch: a stale owner, or a deleted record, is refused', async (t) => {
    const { instances } = await make();
    const a = instance('alpha');
    await instances.create(a);
    const claimed = (await instances.claim(a.id, 0, 'node-1'))!;
    await t.rejects(instances.save({ ...a, status: 'suspended' }), { code: 'STALE_OWNER' }, 'the owner before the claim is refused');
    t.equal((await instances.get(a.id))!.status, 'running', 'and wrote nothing');
    const saved = { ...claimed, status: 'suspended' as const, updatedAt: 1893542400000 };
    await instances.save(saved);
    t.same(await instances.get(a.id), saved, 'the owner of the epoch writes');
    t.same((await instances.claim(a.id, 1, 'node-2'))!.status, 'suspended', 'a claim keeps what the owner wrote');
    await t.rejects(instances.delete(a.id, 1), { code: 'STALE_OWNER' }, 'a delete by the owner of an old epoch is refused');
    t.ok(await instances.get(a.id), 'and deleted nothing');
    await instances.delete(a.id, 2);
    await t.rejects(instances.save({ ...saved, epoch: 2 }), { code: 'STALE_OWNER' }, 'a deleted instance is not written back');
    t.equal(await instances.get(a.id), null);
  });

  t.test('get-or-create by name: the first creator wins; deleting frees the name', async (t) => {
    const { instances } = await make();
    const first = instance('alpha', 'room-1');
    const second = instance('alpha', 'room-1');
    const [one, two] = await Promise.all([instances.create(first), instances.create(second)]);
    t.same([one.created, two.created].sort(), [false, true], 'exactly one created');
    const winner = one.created ? first : second;
    t.same(one.record, winner, 'both answers name the winner');
    t.same(two.record, winner);
    t.same(await instances.list(), [winner]);
    t.equal((await instances.create(instance('beta', 'room-1'))).created, true, 'names are per function');
    await instances.delete(winner.id);
    const third = instance('alpha', 'room-1');
    t.same(await instances.create(third), { created: true, record: third }, 'the name is free again');
    await t.rejects(instances.save({ ...instance('alpha'), name: 'room-1' }), 'a save cannot take a name that another holds');
  });

  t.test('a group and its members are written and deleted together', async (t) => {
    const { instances, groups } = await make();
    const loner = instance('alpha');
    await instances.create(loner);
    const members = [instance('alpha', null, 'pipeline'), instance('beta', null, 'pipeline')];
    const g = group('pipeline', members);
    await groups.save(g, members);
    t.same(await groups.list(), [g]);
    t.same(await groups.get('pipeline'), g, 'read by name');
    t.equal(await groups.get('other'), undefined);
    t.same(await instances.list(), [loner, ...members]);
    const suspended = { ...g, status: 'suspended' as const, generation: 1 };
    const checkpointed = members.map((m) => ({ ...m, status: 'suspended' as const, checkpoint: 'cd'.repeat(32) }));
    await groups.save(suspended, checkpointed);
    t.same(await groups.list(), [suspended]);
    t.same(await instances.list(), [loner, ...checkpointed]);
    await groups.delete('pipeline', g.members);
    t.same(await groups.list(), []);
    t.same(await instances.list(), [loner], 'the members went with it');
  });

  t.test('a group changes home by compare-and-set; a write from the home it had is refused after', async (t) => {
    const { groups } = await make();
    const members = [instance('alpha', null, 'homed')];
    const g = { ...group('homed', members), node: 'node-a' };
    await groups.save(g, members);
    t.equal(await groups.claimHome('homed', 'node-b', 'node-c'), undefined, 'not taken from a node that is not its home');
    t.equal(await groups.claimHome('nothing', 'node-a', 'node-c'), undefined, 'nor is a group that does not exist');
    const claims = await Promise.all([groups.claimHome('homed', 'node-a', 'node-b'), groups.claimHome('homed', 'node-a', 'node-c')]);
    const won = claims.filter((claim) => claim !== undefined);
    t.equal(won.length, 1, 'of two claims from the same home, one wins');
    const home = won[0]!.node!;
    t.same((await groups.list()).map((stored) => stored.node), [home], 'and the list shows the new home');
    t.equal((await groups.get('homed'))?.node, home, 'as does a read by name');
    await groups.save({ ...g, node: home, generation: 1 }, members);
    t.equal((await groups.list())[0]!.generation, 1, 'the new home writes');
    await t.rejects(groups.save({ ...g, node: 'node-a', generation: 2 }, members), { code: 'STALE_OWNER' }, 'the former home does not');
    t.equal((await groups.list())[0]!.generation, 1, 'and nothing of its write is stored');
  });

  t.test('a group name is held while its group is created: one holder at a time, none once released', async (t) => {
    const { groups } = await make();
    t.equal(await groups.reserveName('held', 'node-a'), true);
    t.equal(await groups.reserveName('held', 'node-b'), false, 'a second creator is refused while the first holds it');
    t.same(await groups.list(), [], 'a held name is no group');
    await groups.releaseName('held', 'node-a');
    t.equal(await groups.reserveName('held', 'node-c'), true, 'released, it can be held again');
    const members = [instance('alpha', null, 'held')];
    await groups.save({ ...group('held', members), node: 'node-c' }, members);
    t.equal(await groups.reserveName('held', 'node-a'), false, 'a stored group holds its name');
    t.same((await groups.list()).map((g) => g.name), ['held'], 'and is listed');
  });

  t.test('a group write that cannot be stored whole stores nothing', async (t) => {
    const { instances, groups } = await make();
    const holder = instance('beta', 'taken');
    await instances.create(holder);
    const members = [instance('alpha', null, 'broken'), instance('beta', 'taken', 'broken')];
    await t.rejects(groups.save(group('broken', members), members), 'the second member\'s name is held by another instance');
    t.same(await groups.list(), [], 'no group');
    t.same(await instances.list(), [holder], 'and not its first member either');
  });
}
