// Every time Wisp writes into a record comes from the one injected clock, in one format (ISO 8601,
// UTC): functions, versions, env, instances, checkpoints, groups and synchronous invocations.
import t from 'tap';
import { roomy } from '../helpers/instances.js';
import { ManualClock } from '../helpers/manual-clock.js';
import { tempDir } from '../helpers/temp-dir.js';
import { invoke, mustDeploy, startWisp } from '../helpers/wisp.js';

const AT = Date.parse('2031-05-06T07:08:09.000Z');
const json = { 'content-type': 'application/json' };

t.test('records take their times from the injected clock', async (t) => {
  const clock = new ManualClock(AT);
  const app = await startWisp(t, roomy, tempDir(), { clock });
  const version = await mustDeploy(t, app, 'counter', 'export default () => 1;\nexport class Counter { n = 0; add() { return ++this.n; } }');
  t.equal(version.createdAt, '2031-05-06T07:08:09.000Z', 'the version');
  clock.advance(1000);
  const env = await app.inject({ method: 'PATCH', url: '/v1/functions/counter/env', headers: json, payload: '{"KEY": "value"}' });
  t.equal(env.json().env[0].updatedAt, '2031-05-06T07:08:10.000Z', 'the env entry');
  clock.advance(1000);
  const instance = (await app.inject({ method: 'POST', url: '/v1/functions/counter/instances', headers: json, payload: '{}' })).json();
  t.equal(instance.createdAt, '2031-05-06T07:08:11.000Z', 'the instance');
  clock.advance(1000);
  const suspended = (await app.inject({ method: 'POST', url: `/v1/instances/${instance.id}/suspend` })).json();
  t.equal(suspended.updatedAt, '2031-05-06T07:08:12.000Z', 'the suspended instance');
  t.equal(suspended.checkpointedAt, '2031-05-06T07:08:12.000Z', 'its checkpoint');
  clock.advance(1000);
  const group = await app.inject({ method: 'POST', url: '/v1/groups', headers: json, payload: '{"name": "g", "instances": [{"function": "counter"}]}' });
  t.equal(group.json().createdAt, '2031-05-06T07:08:13.000Z', 'the group');
  clock.advance(1000);
  const call = await invoke(app, 'counter');
  const record = (await app.inject(`/v1/invocations/${call.headers['x-invocation-id']}`)).json();
  t.equal(record.createdAt, '2031-05-06T07:08:14.000Z', 'a synchronous invocation');
  clock.advance(1000);
  const rolled = await app.inject({ method: 'PATCH', url: '/v1/functions/counter', headers: json, payload: '{"activeVersion": 1}' });
  t.equal(rolled.json().updatedAt, '2031-05-06T07:08:15.000Z', 'a rollback');
});
