// Nothing acknowledged is lost: 200 invocations of a slow function are submitted to a real Wisp
// process, which is SIGKILLed while they are queued and running. After a restart every one of them
// reaches a final state under the id it was acknowledged with; interrupted ones ran again.
import t from 'tap';
import { isFinalStatus } from '../../dist/invocations/invocation-record.js';
import type { InvocationStatus } from '../../dist/store/records.js';
import { startConfiguredWisp, startWispProcess } from '../helpers/process.js';

interface Invocation {
  id: string;
  status: InvocationStatus;
  attempts: number;
  result: unknown;
}


async function json<T>(response: Promise<Response>): Promise<T> {
  const res = await response;
  if (!res.ok) throw new Error(`${res.status} ${await res.text()}`);
  return (await res.json()) as T;
}

t.test('200 acknowledged invocations survive a SIGKILL and all reach a final state', async (t) => {
  const { wisp: first, dataDir, env } = await startConfiguredWisp(t, { pool: { maxThreads: 2 }, invocations: { maxRunning: 8 } });
  const deployed = await fetch(`${first.url}/v1/functions/slow`, {
    method: 'PUT',
    headers: { 'content-type': 'application/typescript' },
    body: 'export const config = { retryBackoffMs: 0 };\nexport default async (n: number) => { await new Promise((r) => setTimeout(r, 40)); return n * 2; };',
  });
  t.equal(deployed.status, 201);

  const ids: string[] = [];
  for (let batch = 0; batch < 4; batch++) {
    const answers = await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        json<{ id: string }>(fetch(`${first.url}/v1/functions/slow/invocations`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: String(batch * 50 + i) })),
      ),
    );
    ids.push(...answers.map((a) => a.id));
  }
  t.equal(new Set(ids).size, 200, '200 distinct ids acknowledged');
  // Kill once some have finished, while the rest are queued or running.
  const early = await json<Invocation>(fetch(`${first.url}/v1/invocations/${ids[10]}?wait=30`));
  t.equal(early.status, 'succeeded');
  const unfinished = await json<{ invocations: Invocation[] }>(fetch(`${first.url}/v1/invocations?limit=1000&status=queued`));
  first.child.kill('SIGKILL');
  t.same((await first.exited)[1], 'SIGKILL');
  t.ok(unfinished.invocations.length > 0, `${unfinished.invocations.length} were still queued at the kill`);

  const second = await startWispProcess(dataDir, env);
  t.teardown(() => second.child.kill('SIGKILL'));
  const finals = await Promise.all(
    ids.map(async (id) => {
      for (;;) {
        const invocation = await json<Invocation>(fetch(`${second.url}/v1/invocations/${id}?wait=30`));
        if (isFinalStatus(invocation.status)) return invocation;
      }
    }),
  );
  t.equal(finals.length, 200);
  t.same(
    finals.filter((f) => f.status !== 'succeeded'),
    [],
    'every one succeeded',
  );
  t.ok(
    finals.every((f, i) => f.id === ids[i] && f.result === i * 2),
    'each under its acknowledged id, with its own result',
  );
  t.ok(finals.some((f) => f.attempts > 1), 'those running at the kill ran again (at-least-once)');
  second.child.kill('SIGTERM');
  t.same(await second.exited, [0, null]);
});
