// What was deployed survives a clean restart and a SIGKILL.
import t from 'tap';
import { startWispProcess } from '../helpers/process.js';
import { tempDir } from '../helpers/temp-dir.js';

const put = (url: string, name: string, source: string) =>
  fetch(`${url}/v1/functions/${name}`, { method: 'PUT', headers: { 'content-type': 'application/typescript' }, body: source });
const call = async (url: string, name: string) => (await fetch(`${url}/v1/functions/${name}/invoke`, { method: 'POST' })).json();

t.test('deploys, versions and rollbacks survive SIGKILL and a clean restart', async (t) => {
  const dataDir = tempDir();
  const first = await startWispProcess(dataDir);
  t.teardown(() => first.child.kill('SIGKILL'));
  t.equal((await put(first.url, 'keeper', 'export default () => "one";')).status, 201);
  t.equal((await put(first.url, 'keeper', 'export default () => "two";')).status, 201);
  t.equal((await put(first.url, 'other', 'export default { fetch: () => new Response("raw") };')).status, 201);
  const rolled = await fetch(`${first.url}/v1/functions/keeper`, {
    method: 'PATCH',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ activeVersion: 1 }),
  });
  t.equal(rolled.status, 200);
  // Acknowledged above; now kill without any chance to flush.
  first.child.kill('SIGKILL');
  t.same((await first.exited)[1], 'SIGKILL');

  const second = await startWispProcess(dataDir);
  t.teardown(() => second.child.kill('SIGKILL'));
  t.equal(await call(second.url, 'keeper'), 'one', 'the rollback survived');
  const versions = (await (await fetch(`${second.url}/v1/functions/keeper/versions`)).json()) as { versions: unknown[] };
  t.equal(versions.versions.length, 2);
  t.equal(await (await fetch(`${second.url}/fn/other`)).text(), 'raw', 'code blobs survived');

  second.child.kill('SIGTERM');
  t.same(await second.exited, [0, null], 'SIGTERM is a clean exit');

  const third = await startWispProcess(dataDir);
  t.teardown(() => third.child.kill('SIGKILL'));
  t.equal(await call(third.url, 'keeper'), 'one', 'and a clean restart');
});
