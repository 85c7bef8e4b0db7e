// Groups across the nodes of a cluster, on real processes and a real redis-server: members are
// spread (or packed) over the nodes, each member callable through any node; the group is read
// and managed through any node (its home answers); a node's death fails the whole group, or
// restarts it from its last checkpoint generation on the live nodes, also when the node that
// died was the one managing it; allocation on every node
// is back to what it was afterwards; concurrent creates beyond the cluster's capacity never take
// more than a node has, nor leave a reservation behind.
import t from 'tap';
import { startCluster, until, type ClusterNodeProcess, type TestCluster } from '../helpers/cluster.js';
import { send } from '../helpers/process.js';

const COUNTER = 'export class Counter { n = 0; add(k: number) { this.n += k; return this.n; } get() { return this.n; } }';
const NODE = { node: { cpu: 1000, memory: 4000, custom: {} } };

interface Member {
  id: string;
  node: string;
  status: string;
}

async function allocatedCpu(nodes: ClusterNodeProcess[]): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const node of nodes) out[node.id] = (await send(node.url, 'GET', '/v1/node')).json.resources.allocated.cpu as number;
  return out;
}

const live = (cluster: TestCluster) => cluster.nodes.filter((node) => node.process.child.exitCode === null && node.process.child.signalCode === null);

const perNode = (members: Member[]) => {
  const out: Record<string, number> = {};
  for (const m of members) out[m.node] = (out[m.node] ?? 0) + 1;
  return out;
};

t.test('a group spread over three nodes: members on each, managed through any node; a node death fails it and frees every reservation', async (t) => {
  const cluster = await startCluster(t, 3, { config: NODE });
  if (!cluster) return;
  const [a, b, c] = cluster.nodes as [ClusterNodeProcess, ClusterNodeProcess, ClusterNodeProcess];
  t.equal((await send(a.url, 'PUT', '/v1/functions/counter', COUNTER)).status, 201);
  const before = await allocatedCpu(cluster.nodes);
  const members = Array.from({ length: 6 }, () => ({ function: 'counter', resources: { cpu: 200, memory: 64 } }));
  const created = await send(a.url, 'POST', '/v1/groups', { name: 'room', instances: members, policy: { placement: 'spread' } });
  t.equal(created.status, 201, created.json.detail ?? 'created');
  t.same(perNode(created.json.instances), { 'node-1': 2, 'node-2': 2, 'node-3': 2 }, 'two members on each node');
  t.same(await allocatedCpu(cluster.nodes), { 'node-1': 400, 'node-2': 400, 'node-3': 400 }, 'each node holds its members’ reservations');

  const seen = await send(b.url, 'GET', '/v1/groups/room');
  t.equal(seen.status, 200, 'read through another node');
  t.same(seen.json.instances.map((m: Member) => m.node), created.json.instances.map((m: Member) => m.node), 'with each member’s node');
  t.same((await send(c.url, 'GET', '/v1/groups')).json.groups.map((g: { name: string }) => g.name), ['room'], 'listed on every node');
  const onC = (created.json.instances as Member[]).find((m) => m.node === 'node-3')!;
  t.equal((await send(a.url, 'POST', `/v1/instances/${onC.id}/methods/add`, [3])).json, 3, 'a member on node-3 is called through node-1');

  c.process.child.kill('SIGKILL');
  const failed = await until(async () => {
    const group = await send(b.url, 'GET', '/v1/groups/room');
    return group.json.status === 'failed' ? group.json : undefined;
  }, 100);
  t.match(failed.failure, /node-3 died/, 'the group failed with its node');
  t.same((failed.instances as Member[]).map((m) => m.status), members.map(() => 'failed'), 'every member with it');
  const after = await until(async () => {
    const cpu = await allocatedCpu([a, b]);
    return cpu['node-1'] === before['node-1'] && cpu['node-2'] === before['node-2'] ? cpu : undefined;
  }, 100);
  t.same(after, { 'node-1': before['node-1'], 'node-2': before['node-2'] }, 'the live nodes released every member’s reservation');
  t.equal((await send(b.url, 'DELETE', '/v1/groups/room')).status, 204, 'deleted through a node that is not its home');
  t.equal((await send(a.url, 'GET', '/v1/groups/room')).status, 404);
});

t.test('with onMemberFailure restart, a node death restarts the group from its last generation on the live nodes', async (t) => {
  const cluster = await startCluster(t, 3, { config: NODE });
  if (!cluster) return;
  const [a, b] = cluster.nodes as [ClusterNodeProcess, ClusterNodeProcess];
  t.equal((await send(a.url, 'PUT', '/v1/functions/counter', COUNTER)).status, 201);
  const members = Array.from({ length: 3 }, () => ({ function: 'counter', resources: { cpu: 200, memory: 64 } }));
  const created = await send(b.url, 'POST', '/v1/groups', { name: 'team', instances: members, policy: { placement: 'spread', onMemberFailure: 'restart', maxRestarts: 1 } });
  t.equal(created.status, 201, created.json.detail ?? 'created');
  const ids = (created.json.instances as Member[]).map((m) => m.id);
  for (const id of ids) t.equal((await send(a.url, 'POST', `/v1/instances/${id}/methods/add`, [5])).json, 5);
  // One generation: suspend checkpoints every member, resume places the group again.
  t.equal((await send(a.url, 'POST', '/v1/groups/team/suspend')).json.status, 'suspended', 'suspended through a node that is not its home');
  const resumed = await send(a.url, 'POST', '/v1/groups/team/resume');
  t.equal(resumed.json.status, 'running');
  t.equal(resumed.json.generation, 1);
  // Not the home (node-2): a member's node that dies.
  const victimId = (resumed.json.instances as Member[]).find((m) => m.node !== 'node-2')!.node;
  const victim = cluster.nodes.find((node) => node.id === victimId)!;
  victim.process.child.kill('SIGKILL');
  const restarted = await until(async () => {
    const group = (await send(b.url, 'GET', '/v1/groups/team')).json;
    return group.restarts === 1 && group.status === 'running' ? group : undefined;
  }, 100);
  t.notOk((restarted.instances as Member[]).some((m) => m.node === victimId), `no member left on the dead ${victimId}`);
  for (const id of ids) {
    t.equal((await send(live(cluster)[0]!.url, 'POST', `/v1/instances/${id}/methods/get`, [])).json, 5, `member ${id} came back with its checkpointed state`);
  }
});

t.test('a group packed on its home: the home’s death is taken over by a live node, which fails it, or restarts it elsewhere', async (t) => {
  const cluster = await startCluster(t, 3, { config: NODE });
  if (!cluster) return;
  const [a, b, c] = cluster.nodes as [ClusterNodeProcess, ClusterNodeProcess, ClusterNodeProcess];
  t.equal((await send(a.url, 'PUT', '/v1/functions/counter', COUNTER)).status, 201);
  const two = () => [0, 1].map(() => ({ function: 'counter', resources: { cpu: 200, memory: 64 } }));
  const doomed = await send(a.url, 'POST', '/v1/groups', { name: 'doomed', instances: two() });
  const phoenix = await send(a.url, 'POST', '/v1/groups', { name: 'phoenix', instances: two(), policy: { onMemberFailure: 'restart', maxRestarts: 1 } });
  t.same([doomed.status, phoenix.status], [201, 201]);
  t.same(perNode([...doomed.json.instances, ...phoenix.json.instances]), { 'node-1': 4 }, 'packed: every member on node-1, their home');
  const ids = (phoenix.json.instances as Member[]).map((m) => m.id);
  for (const id of ids) t.equal((await send(b.url, 'POST', `/v1/instances/${id}/methods/add`, [7])).json, 7);
  t.equal((await send(c.url, 'POST', '/v1/groups/phoenix/suspend')).json.generation, 1);
  t.equal((await send(c.url, 'POST', '/v1/groups/phoenix/resume')).json.status, 'running');

  a.process.child.kill('SIGKILL');
  const failed = await until(async () => {
    const group = await send(b.url, 'GET', '/v1/groups/doomed');
    return group.json.status === 'failed' ? group.json : undefined;
  }, 100);
  t.match(failed.failure, /node-1 died/);
  t.not(failed.node, 'node-1', `managed by ${failed.node} now`);
  const restarted = await until(async () => {
    const group = await send(c.url, 'GET', '/v1/groups/phoenix');
    return group.json.status === 'running' && group.json.restarts === 1 ? group.json : undefined;
  }, 100);
  t.notOk((restarted.instances as Member[]).some((m) => m.node === 'node-1'), 'restarted on the live nodes');
  for (const id of ids) t.equal((await send(b.url, 'POST', `/v1/instances/${id}/methods/get`, [])).json, 7, `member ${id} has its checkpointed state`);
  t.equal((await send(c.url, 'DELETE', '/v1/groups/doomed')).status, 204, 'a taken-over group is deleted through any node');
  t.equal((await send(b.url, 'DELETE', '/v1/groups/phoenix')).status, 204);
  t.same(await allocatedCpu([b, c]), { 'node-2': 0, 'node-3': 0 }, 'and nothing stays reserved');
});

t.test('concurrent group creates beyond the cluster’s capacity never take more than a node has, nor leave a reservation behind', async (t) => {
  const cluster = await startCluster(t, 3, { config: NODE });
  if (!cluster) return;
  const nodes = cluster.nodes;
  t.equal((await send(nodes[0]!.url, 'PUT', '/v1/functions/counter', COUNTER)).status, 201);
  // Each group takes 800 millicores in two members; the cluster has 3000: three fit at most.
  const attempts = await Promise.all(
    Array.from({ length: 6 }, (_, i) =>
      send(nodes[i % 3]!.url, 'POST', '/v1/groups', { name: `g${i}`, instances: [0, 1].map(() => ({ function: 'counter', resources: { cpu: 400, memory: 64 } })) }),
    ),
  );
  const made = attempts.filter((res) => res.status === 201);
  t.ok(made.length >= 1 && made.length <= 3, `${made.length} of 6 created`);
  for (const res of attempts.filter((r) => r.status !== 201)) t.match(res.json.code, /GROUP_CREATE_FAILED|INSUFFICIENT_RESOURCES/);
  const cpu = await allocatedCpu(nodes);
  for (const [node, used] of Object.entries(cpu)) t.ok(used <= 1000, `node ${node} holds ${used} of 1000 millicores`);
  const members = made.flatMap((res) => res.json.instances as Member[]);
  const expected: Record<string, number> = { 'node-1': 0, 'node-2': 0, 'node-3': 0 };
  for (const m of members) expected[m.node]! += 400;
  t.same(cpu, expected, 'every node holds exactly what the created groups’ members on it reserve');
  for (const res of made) t.equal((await send(nodes[2]!.url, 'DELETE', `/v1/groups/${res.json.name}`)).status, 204);
  t.same(await allocatedCpu(nodes), { 'node-1': 0, 'node-2': 0, 'node-3': 0 }, 'nothing held after every group is deleted');

  // One name, created through every node at once: one group.
  const same = await Promise.all(nodes.map((node) => send(node.url, 'POST', '/v1/groups', { name: 'same', instances: [{ function: 'counter', resources: { cpu: 100, memory: 64 } }] })));
  t.same(same.map((res) => res.status).sort(), [201, 409, 409], 'one created, the others GROUP_EXISTS');
  t.equal((await send(nodes[1]!.url, 'GET', '/v1/groups')).json.groups.length, 1);
  t.equal(Object.values(await allocatedCpu(nodes)).reduce((sum, cpu) => sum + cpu, 0), 100, 'and only its member holds resources');
});

t.test('a member that crashes after its group’s home died tells the node that took the group over', async (t) => {
  const cluster = await startCluster(t, 3, { config: NODE });
  if (!cluster) return;
  const [a, b] = cluster.nodes as [ClusterNodeProcess, ClusterNodeProcess, ClusterNodeProcess];
  const crashy = 'export class Counter { n = 0; add(k: number) { this.n += k; return this.n; } crash() { process.exit(3); } }';
  t.equal((await send(a.url, 'PUT', '/v1/functions/counter', crashy)).status, 201);
  // node-1 is half full while the group is placed, too full for any member: its home holds
  // none of them. (An instance stays on the node asked while that leaves it at most half used.)
  const filler = (await send(a.url, 'POST', '/v1/functions/counter/instances', { resources: { cpu: 500, memory: 64 } })).json;
  t.equal(filler.node, 'node-1');
  const members = [0, 1].map(() => ({ function: 'counter', resources: { cpu: 600, memory: 64 } }));
  const team = await send(a.url, 'POST', '/v1/groups', { name: 'team', instances: members, policy: { placement: 'spread', onMemberFailure: 'restart', maxRestarts: 2 } });
  t.equal(team.status, 201, JSON.stringify(team.json));
  t.equal(team.json.node, 'node-1', 'managed by the node it was created through');
  t.same(Object.keys(perNode(team.json.instances)).sort(), ['node-2', 'node-3'], 'one member on each of the other nodes');
  t.equal((await send(a.url, 'DELETE', `/v1/instances/${filler.id}`)).status, 204);

  a.process.child.kill('SIGKILL');
  const adopted = await until(async () => {
    const group = await send(b.url, 'GET', '/v1/groups/team');
    return group.json.node && group.json.node !== 'node-1' ? group.json : undefined;
  }, 100);
  t.equal(adopted.status, 'running', 'its members lived through the death of its home');
  // The member on the node that did not take the group over: it was placed by node-1.
  const away = (adopted.instances as Member[]).find((m) => m.node !== adopted.node)!;
  const at = cluster.nodes.find((node) => node.id === away.node)!;
  t.equal((await send(at.url, 'POST', `/v1/instances/${away.id}/methods/crash`, [])).status, 500);
  const restarted = await until(async () => {
    const group = await send(b.url, 'GET', '/v1/groups/team');
    return (group.json.status === 'running' && group.json.restarts === 1) || group.json.status === 'failed' ? group.json : undefined;
  }, 100);
  t.equal(restarted.status, 'running', `restarted, not failed (${restarted.failure})`);
  t.equal(restarted.node, adopted.node, 'the node that took it over restarted it');
  t.equal((await send(b.url, 'DELETE', '/v1/groups/team')).status, 204);
});
