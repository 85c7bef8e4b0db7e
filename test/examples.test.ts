// The examples in functions/ deploy and do what the README says.
import t from 'tap';
import { readFileSync } from 'node:fs';
import { invoke, mustDeploy, startWisp } from './helpers/wisp.js';

const example = (file: string) => readFileSync(new URL(`../functions/${file}`, import.meta.url), 'utf8');

t.test('functions/ examples', async (t) => {
  const app = await startWisp(t);
  await mustDeploy(t, app, 'hello', example('hello.ts'));
  t.same((await invoke(app, 'hello', { name: 'Ann' })).json(), { greeting: 'Hello, Ann' });

  await mustDeploy(t, app, 'echo-http', example('echo-http.ts'));
  const echo = await app.inject({ method: 'POST', url: '/fn/echo-http/some/path?x=1', payload: 'hello', headers: { 'content-type': 'text/plain' } });
  t.equal(echo.headers['x-powered-by'], 'wisp');
  t.same(echo.json(), { method: 'POST', path: '/fn/echo-http/some/path', query: { x: '1' }, body: 'hello' });

  await mustDeploy(t, app, 'whoami', example('whoami.ts'));
  const who = await invoke(app, 'whoami');
  t.match(who.json(), { invocationId: who.headers['x-invocation-id'], function: 'whoami', version: 1, attempt: 1 });
});
