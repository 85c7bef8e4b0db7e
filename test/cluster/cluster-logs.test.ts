// Live logs across a cluster of Wisp processes on a real Redis: a follower on one node gets the
// lines of the function's calls that ran on another (stateless calls and instance methods).
import t from 'tap';
import { startCluster, until, type ClusterNodeProcess } from '../helpers/cluster.js';
import { send } from '../helpers/process.js';
import { openSocket } from '../helpers/sockets.js';

const SPEAKER = 'export default (input: { n: number }) => { console.log("said", input.n); return input.n; };\nexport class Parrot { repeat(text: string) { console.info("parrot", text); return text; } }\n';

t.test("a follower on b hears the calls that ran on a", async (t) => {
  const cluster = await startCluster(t, 2);
  if (!cluster) return;
  const [a, b] = cluster.nodes as [ClusterNodeProcess, ClusterNodeProcess];
  t.equal((await send(a.url, 'PUT', '/v1/functions/speaker', SPEAKER)).status, 201);
  const follower = await openSocket(`${b.url.replace(/^http/, 'ws')}/v1/functions/speaker/logs/ws`);
  const heard: { message: string; invocationId: string | null; instance?: string }[] = [];
  follower.ws.on('message', (frame) => heard.push(JSON.parse(String(frame))));
  // The follow reaches a through the bus: call until the first line comes back, then one more.
  let n = 0;
  await until(async () => {
    await send(a.url, 'POST', '/v1/functions/speaker/invoke', { n: ++n });
    return heard.length > 0;
  }, 50);
  const last = await send(a.url, 'POST', '/v1/functions/speaker/invoke', { n: 1000 });
  t.equal(last.status, 200);
  await until(async () => heard.some((e) => e.message === 'said 1000'));
  t.ok(heard.every((e) => /^said \d+$/.test(e.message)), 'only the function\'s lines');
  const ids = heard.map((e) => e.message);
  t.same(ids, [...new Set(ids)], 'each line once');

  const parrot = await send(a.url, 'POST', '/v1/functions/speaker/instances', { class: 'Parrot' });
  t.equal(parrot.json.node, a.id);
  t.equal((await send(a.url, 'POST', `/v1/instances/${parrot.json.id}/methods/repeat`, ['polly'])).status, 200);
  const line = await until(async () => heard.find((e) => e.message === 'parrot polly'));
  t.equal(line.instance, parrot.json.id, "an instance's method line names its instance");
});
