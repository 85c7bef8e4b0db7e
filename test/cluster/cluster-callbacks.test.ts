// Callbacks on a cluster: whichever node ran an invocation and delivers its callback, it is
// signed with the one secret of the cluster (shared through Redis), and delivered once.
import t from 'tap';
import { createHmac } from 'node:crypto';
import { once } from 'node:events';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Redis } from 'ioredis';
import { startCluster, until, type ClusterNodeProcess } from '../helpers/cluster.js';
import { send } from '../helpers/process.js';

t.test('callbacks from every node are signed with the cluster secret and delivered once each', async (t) => {
  const cluster = await startCluster(t, 2);
  if (!cluster) return;
  const received: { headers: IncomingHttpHeaders; body: string }[] = [];
  const receiver = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk) => (body += chunk));
    req.on('end', () => {
      received.push({ headers: req.headers, body });
      res.end('ok');
    });
  });
  receiver.listen(0, '127.0.0.1');
  await once(receiver, 'listening');
  t.teardown(() => void receiver.close());
  const url = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;
  const [a] = cluster.nodes as [ClusterNodeProcess];
  t.equal((await send(a.url, 'PUT', '/v1/functions/hello', 'export default (i: { n: number }) => i.n;')).status, 201);
  const ids: string[] = [];
  for (let n = 0; n < 12; n++) {
    const node = cluster.nodes[n % 2]!;
    const res = await fetch(`${node.url}/v1/functions/hello/invocations`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-callback-url': url }, body: JSON.stringify({ n }) });
    t.equal(res.status, 202);
    ids.push(((await res.json()) as { id: string }).id);
  }
  await until(async () => received.length >= ids.length);
  const redis = new Redis(cluster.redis.url);
  t.teardown(() => redis.quit());
  const secret = (await redis.get(`${cluster.prefix}cluster:secret:callbacks`))!;
  t.match(secret, /^whsec_/, 'the cluster has one callback secret');
  const key = Buffer.from(secret.replace(/^whsec_/, ''), 'base64');
  for (const { headers, body } of received) {
    const expected = createHmac('sha256', key).update(`${headers['webhook-id']}.${headers['webhook-timestamp']}.${body}`).digest('base64');
    t.ok(String(headers['webhook-signature']).split(' ').includes(`v1,${expected}`), `callback ${headers['webhook-id']} verifies with it`);
  }
  const delivered = received.map(({ body }) => (JSON.parse(body) as { id: string }).id).sort();
  t.same(delivered, [...ids].sort(), 'each invocation called back once');
});
