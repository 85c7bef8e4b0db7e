// WebSockets to instances in a cluster of Wisp processes on a real Redis: a socket opened on any
// node reaches the instance on its owner (relayed), clients on different nodes share one room,
// and the owner's death closes the relayed sockets with 4003 (connect again), after which a new
// socket reaches the instance on the node that took it over.
import t from 'tap';
import { startCluster, until, type ClusterNodeProcess } from '../helpers/cluster.js';
import { send } from '../helpers/process.js';
import { openSocket, refusedUpgrade, type TestSocket } from '../helpers/sockets.js';
import { fixture } from '../helpers/wisp.js';

const wsUrl = (node: ClusterNodeProcess, id: string) => `${node.url.replace(/^http/, 'ws')}/v1/instances/${id}/ws`;

t.test('a socket on any node reaches the instance; the owner dies: 4003, then the new owner takes sockets', async (t) => {
  const cluster = await startCluster(t, 2);
  if (!cluster) return;
  const [a, b] = cluster.nodes as [ClusterNodeProcess, ClusterNodeProcess];
  t.equal((await send(a.url, 'PUT', '/v1/functions/room', fixture('room.ts'))).status, 201);
  const created = await send(a.url, 'POST', '/v1/functions/room/instances', { class: 'Room' });
  t.equal(created.json.node, a.id, 'placed on the node asked (it has room)');
  const id = created.json.id as string;

  const local = await openSocket(wsUrl(a, id));
  const relayed = await openSocket(wsUrl(b, id));
  t.equal((await local.nextJson()).present, 1);
  const welcome = await relayed.nextJson();
  t.equal(welcome.present, 2, 'the socket opened on b joined the instance on a');
  relayed.send('from b');
  local.send('from a');
  const heard = async (socket: TestSocket) => [await socket.nextJson(), await socket.nextJson()];
  const [onA, onB] = await Promise.all([heard(local), heard(relayed)]);
  t.same(onB, onA, 'both nodes\' clients hear the room in one order');
  t.same(onA.map((m) => m.line).sort(), ['from a', 'from b']);
  relayed.send(Buffer.from([7, 8, 9]));
  t.same([...((await relayed.next()) as Buffer)], [9, 8, 7], 'binary frames cross the relay as binary');

  const quiet = await send(a.url, 'POST', '/v1/functions/room/instances', { class: 'Quiet' });
  const refused = await refusedUpgrade(wsUrl(b, quiet.json.id));
  t.equal(refused.status, 400, "the owner's refusal reaches the client as its problem");
  t.equal(refused.problem.code, 'NO_SOCKET_HANDLER');

  a.process.child.kill('SIGKILL');
  const closed = await relayed.closed;
  t.equal(closed.code, 4003, 'the relayed socket is told to connect again');
  t.match(closed.reason, /node went away/);
  // Failover: b takes the instance over (from its constructor: it had no checkpoint).
  const again = await until(async () => openSocket(wsUrl(b, id)).catch(() => undefined), 100);
  t.equal((await again.nextJson()).present, 1, 'a new socket reaches the instance on b');
  const record = await send(b.url, 'GET', `/v1/instances/${id}`);
  t.equal(record.json.node, b.id);
});
