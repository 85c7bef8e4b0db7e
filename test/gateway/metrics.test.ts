// GET /metrics: Prometheus text with call counts by function, mode and outcome, and live gauges.
import t from 'tap';
import { mustSubmit, waitFinal } from '../helpers/invocations.js';
import { invoke, mustDeploy, startWisp } from '../helpers/wisp.js';

t.test('calls are counted by function, mode and outcome', async (t) => {
  const app = await startWisp(t);
  await mustDeploy(t, app, 'maybe', 'export const config = { retries: 0 };\nexport default (input: { fail?: boolean }) => { if (input?.fail) throw new Error("no"); return 1; };\n');
  await invoke(app, 'maybe', {});
  await invoke(app, 'maybe', {});
  await invoke(app, 'maybe', { fail: true });
  await waitFinal(app, await mustSubmit(t, app, 'maybe', {}));
  const res = await app.inject('/metrics');
  t.equal(res.statusCode, 200);
  t.match(res.headers['content-type'], /^text\/plain; version=0\.0\.4/);
  t.match(res.body, /wisp_calls_total\{function="maybe",mode="sync",outcome="ok"\} 2\n/);
  t.match(res.body, /wisp_calls_total\{function="maybe",mode="sync",outcome="FUNCTION_ERROR"\} 1\n/);
  t.match(res.body, /wisp_calls_total\{function="maybe",mode="async",outcome="ok"\} 1\n/);
  t.match(res.body, /wisp_call_seconds_total\{function="maybe",mode="sync",outcome="ok"\} \d/);
  t.match(res.body, /wisp_calls_in_flight 0\n/);
  t.match(res.body, /wisp_pool_threads\{memory_mb="128",depth="0"\} \d+/);
  t.match(res.body, /wisp_node_resources\{resource="cpu",kind="capacity"\} \d+/);
  t.match(res.body, /process_resident_memory_bytes \d+/, 'process metrics too');
  // A second scrape reports the same totals, not twice them.
  t.match((await app.inject('/metrics')).body, /wisp_calls_total\{function="maybe",mode="sync",outcome="ok"\} 2\n/);
});
