// What an instance keeps through a crash of Wisp (SIGKILL: no shutdown checkpoint): with
// `checkpoint: "every-call"`, everything a client was answered; with `checkpointEveryMs`, what
// the last periodic checkpoint held; with neither, only its last checkpoint (here: none, so
// its constructor runs again).
import t, { type Test } from 'tap';
import { startWispProcess, send } from '../helpers/process.js';
import { tempDir } from '../helpers/temp-dir.js';

const COUNTER = `export class Counter {
  count = 0;
  add(k: number) { this.count += k; return this.count; }
  get() { return this.count; }
}`;

async function crashAndCount(t: Test, create: Record<string, unknown>, beforeKill?: (url: string, id: string) => Promise<void>): Promise<number> {
  const dataDir = tempDir();
  const first = await startWispProcess(dataDir);
  t.teardown(() => void first.child.kill('SIGKILL'));
  t.equal((await send(first.url, 'PUT', '/v1/functions/counter', COUNTER)).status, 201);
  const created = await send(first.url, 'POST', '/v1/functions/counter/instances', create);
  t.equal(created.status, 201);
  const id = created.json.id as string;
  for (let i = 0; i < 5; i++) t.equal((await send(first.url, 'POST', `/v1/instances/${id}/methods/add`, [1])).json, i + 1);
  await beforeKill?.(first.url, id);
  first.child.kill('SIGKILL');
  await first.exited;
  const second = await startWispProcess(dataDir);
  t.teardown(() => void second.child.kill('SIGKILL'));
  const got = await send(second.url, 'POST', `/v1/instances/${id}/methods/get`, []);
  t.equal(got.status, 200);
  return got.json as number;
}

t.test('every-call: every answered call survives a SIGKILL', async (t) => {
  t.equal(await crashAndCount(t, { checkpoint: 'every-call' }), 5);
});

t.test('checkpointEveryMs: the periodic checkpoint survives a SIGKILL', async (t) => {
  const value = await crashAndCount(t, { checkpointEveryMs: 100 }, async (url, id) => {
    // Awaited, not slept on: the record says when the state of its last checkpoint was taken,
    // and a checkpoint taken after the last add was answered holds all five. One taken during
    // the adds (the machine slow, 100 ms passing) holds fewer, and so does not count. A call
    // after the adds marks the state changed, so that one more checkpoint is sure to come.
    const answered = Date.now();
    await send(url, 'POST', `/v1/instances/${id}/methods/get`, []);
    const takenAfter = async () => {
      const at = (await send(url, 'GET', `/v1/instances/${id}`)).json.checkpointedAt as string | null;
      return at !== null && Date.parse(at) > answered;
    };
    while (!(await takenAfter())) await new Promise((resolve) => setTimeout(resolve, 20));
  });
  t.equal(value, 5, 'the checkpoint after the calls holds them all');
});

t.test('without either, a SIGKILL loses what changed since the last checkpoint', async (t) => {
  t.equal(await crashAndCount(t, {}), 0, 'no checkpoint yet: the constructor ran again');
});

t.test('a checkpoint setting that is not one is a 400 that names it', async (t) => {
  const { startWithCounter, createInstance } = await import('../helpers/instances.js');
  const app = await startWithCounter(t);
  for (const body of [{ checkpoint: 'sometimes' }, { checkpointEveryMs: 5 }, { checkpointEveryMs: 'often' }]) {
    const res = await createInstance(app, 'counter', body);
    t.equal(res.statusCode, 400, JSON.stringify(body));
    t.match(res.json().detail, /checkpoint/, 'says which field');
  }
});
