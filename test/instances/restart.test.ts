// Instances across a restart of Wisp: suspended ones stay suspended, running ones come back.
import t from 'tap';
import { join } from 'node:path';
import { callMethod, instanceAction, mustCreate, roomy, startWithCounter } from '../helpers/instances.js';
import { tempDir } from '../helpers/temp-dir.js';

t.test('suspend, restart Wisp, resume: same id, state intact; running instances come back running', async (t) => {
  const dataDir = join(tempDir(), 'data');
  const first = await startWithCounter(t, roomy, dataDir);
  const suspended = await mustCreate(t, first, 'counter', { args: [10] });
  const running = await mustCreate(t, first, 'counter', { args: [1], name: 'kept' });
  await callMethod(first, suspended, 'add', [5]);
  await callMethod(first, running, 'add', [2]);
  await instanceAction(first, suspended, 'suspend');
  await first.close(); // graceful: the running instance is checkpointed

  const second = await startWithCounter(t, roomy, dataDir);
  const records = (await second.inject({ method: 'GET', url: '/v1/instances' })).json().instances;
  t.same(records.map((r: { id: string; status: string }) => [r.id, r.status]).sort(), [[suspended, 'suspended'], [running, 'running']].sort());
  t.equal((await callMethod(second, running, 'get')).body, '3', 'the running instance came back with its state');
  const resumed = await instanceAction(second, suspended, 'resume');
  t.equal(resumed.json().id, suspended);
  t.equal((await callMethod(second, suspended, 'get')).body, '15', 'the suspended instance resumes with its state');
  const again = await second.inject({ method: 'POST', url: '/v1/functions/counter/instances', headers: { 'content-type': 'application/json' }, payload: '{"name":"kept"}' });
  t.equal(again.statusCode, 200, 'names survive the restart');
  t.equal(again.json().id, running);
});
