// Nothing acknowledged of a batch is lost: a batch of 300 members of a slow function is submitted
// to a real Wisp process, which is SIGKILLed while members are queued and running. After a
// restart the batch completes: every member succeeded, under its acknowledged id and index.
import t from 'tap';
import { send, startConfiguredWisp, startWispProcess } from '../helpers/process.js';

t.test('a batch acknowledged before a SIGKILL completes after the restart', async (t) => {
  const { wisp: first, dataDir, env } = await startConfiguredWisp(t, { pool: { maxThreads: 2 }, invocations: { maxRunning: 8 } });
  const deployed = await send(first.url, 'PUT', '/v1/functions/slow', 'export const config = { retryBackoffMs: 0 };\nexport default async (n: number) => { await new Promise((r) => setTimeout(r, 40)); return n * 2; };');
  t.equal(deployed.status, 201);
  const inputs = Array.from({ length: 300 }, (_, i) => i);
  const accepted = await send(first.url, 'POST', '/v1/functions/slow/batches', { inputs });
  t.equal(accepted.status, 202);
  const id: string = accepted.json.id;
  const ids = (await send(first.url, 'GET', `/v1/batches/${id}?results=true&limit=1000`)).json.results.map((r: { id: string }) => r.id);
  t.equal(ids.length, 300, 'every member is readable at once');
  // Killed once some have finished, while the rest are queued or running.
  t.equal((await send(first.url, 'GET', `/v1/invocations/${ids[10]}?wait=30`)).json.status, 'succeeded');
  const atKill = (await send(first.url, 'GET', `/v1/batches/${id}`)).json;
  first.child.kill('SIGKILL');
  t.same((await first.exited)[1], 'SIGKILL');
  t.equal(atKill.status, 'running', `${atKill.counts.queued} were still queued at the kill`);

  const second = await startWispProcess(dataDir, env);
  t.teardown(() => second.child.kill('SIGKILL'));
  let batch = atKill;
  while (batch.status === 'running') batch = (await send(second.url, 'GET', `/v1/batches/${id}?wait=30`)).json;
  t.equal(batch.status, 'completed');
  t.same(batch.counts, { queued: 0, running: 0, retrying: 0, succeeded: 300, failed: 0, cancelled: 0 });
  t.type(batch.finishedAt, 'string', 'found complete by the node that restarted');
  const results = (await send(second.url, 'GET', `/v1/batches/${id}?results=true&limit=1000`)).json.results;
  t.ok(
    results.every((r: { id: string; index: number; result: number }, i: number) => r.id === ids[i] && r.index === i && r.result === i * 2),
    'each under its acknowledged id, in input order, with its own result',
  );
  second.child.kill('SIGTERM');
  t.same(await second.exited, [0, null]);
});
