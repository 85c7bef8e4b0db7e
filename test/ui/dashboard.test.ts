// The dashboard at /ui in a real browser (chromium), against a real Wisp process with real data:
// every page shows what the API holds, invoke and suspend work from it, a running invocation
// changes state on screen without a reload, and with tokens the page asks for one.
import t from 'tap';
import { readFileSync } from 'node:fs';
import { startGate } from '../helpers/gate.js';
import { send, startWispProcess, type WispProcess } from '../helpers/process.js';
import { tempDir } from '../helpers/temp-dir.js';
import { openBrowser } from '../helpers/browser.js';

const example = (file: string) => readFileSync(new URL(`../../functions/${file}`, import.meta.url), 'utf8');
const FAILING = 'export const config = { retries: 0 };\nexport default (input: { why: string }) => { console.error("about to fail:", input.why); throw new RangeError(input.why); };\n';
const GATED = 'export default async (input: { gate: string }) => { await (await fetch(input.gate)).text(); return "let through"; };\n';
const ROOMY = JSON.stringify({ node: { cpu: 4000, memory: 4000, custom: {} } });

async function seeded(wisp: WispProcess): Promise<{ instance: string; failed: string }> {
  const must = async (method: string, path: string, body?: unknown) => {
    const res = await send(wisp.url, method, path, body);
    if (res.status >= 300) throw new Error(`${method} ${path}: ${res.status} ${JSON.stringify(res.json)}`);
    return res.json;
  };
  await must('PUT', '/v1/functions/hello', example('hello.ts'));
  await must('PUT', '/v1/functions/failing', FAILING);
  await must('PUT', '/v1/functions/counter', example('counter.ts'));
  await must('POST', '/v1/functions/hello/invocations', { name: 'Ann' });
  const failed = (await must('POST', '/v1/functions/failing/invocations', { why: 'no disk' })).id as string;
  await must('GET', `/v1/invocations/${failed}?wait=10`);
  const instance = (await must('POST', '/v1/functions/counter/instances', { args: [5], resources: { cpu: 100, memory: 64 } })).id as string;
  await must('POST', '/v1/groups', { name: 'pair', instances: [{ function: 'counter', resources: { cpu: 100, memory: 64 } }, { function: 'counter', resources: { cpu: 100, memory: 64 } }] });
  return { instance, failed };
}

t.test('every page, with real data; invoke and suspend from the page; live updates', async (t) => {
  const browser = await openBrowser(t);
  if (!browser) return;
  const { page, shoot } = browser;
  const dir = tempDir();
  const config = `${dir}/config.json`;
  (await import('node:fs')).writeFileSync(config, ROOMY);
  const wisp = await startWispProcess(tempDir(), { WISP_CONFIG: config });
  t.teardown(() => void wisp.child.kill('SIGKILL'));
  const { instance, failed } = await seeded(wisp);

  await page.goto(`${wisp.url}/ui`);
  await page.getByRole('link', { name: 'hello', exact: true }).waitFor();
  t.equal(await page.title(), 'Functions · Wisp');
  t.ok(await page.getByRole('cell', { name: 'class Counter' }).isVisible(), 'the exports are listed');
  await shoot('functions');

  // Invoke from the function's page.
  await page.getByRole('link', { name: 'hello', exact: true }).click();
  await page.getByRole('heading', { name: 'Versions' }).waitFor();
  await page.getByLabel('Input (JSON)').fill('{"name":"Bo"}');
  await page.getByRole('button', { name: 'Invoke' }).click();
  await page.getByText('"greeting": "Hello, Bo"').waitFor();
  t.ok(await page.getByRole('link', { name: /^[0-9a-f-]{36}$/ }).isVisible(), 'the result links to its invocation');
  await shoot('function');
  await page.getByLabel('Input (JSON)').fill('{not json');
  await page.getByRole('button', { name: 'Invoke' }).click();
  await page.getByRole('alert').filter({ hasText: 'The input is not JSON' }).waitFor();

  // Invocations: filtered, then one with its error and logs.
  await page.goto(`${wisp.url}/ui/#/invocations?status=failed`);
  await page.getByRole('cell', { name: 'failing' }).waitFor();
  t.equal(await page.getByRole('cell', { name: 'hello' }).count(), 0, 'the filter keeps only failed ones');
  await page.getByRole('link', { name: failed.slice(0, 8) }).click();
  await page.getByText('FUNCTION_ERROR: function "failing" threw: RangeError: no disk').waitFor();
  t.ok(await page.getByText('about to fail: no disk').isVisible(), 'its logs are shown');
  t.ok(await page.getByRole('list', { name: 'Calls made with ctx.invoke' }).isVisible(), 'its call tree is drawn');
  await shoot('invocation');

  // A running invocation changes state on screen, without a reload.
  const gate = await startGate(t);
  await send(wisp.url, 'PUT', '/v1/functions/gated', GATED);
  await page.goto(`${wisp.url}/ui/#/invocations?function=gated`);
  await page.getByText('No invocations match.').waitFor();
  await send(wisp.url, 'POST', '/v1/functions/gated/invocations', { gate: gate.url });
  await page.getByRole('cell', { name: 'running', exact: true }).waitFor();
  await shoot('invocations');
  gate.open();
  await page.getByRole('cell', { name: 'succeeded', exact: true }).waitFor();

  // Instances: suspend from the page.
  await page.goto(`${wisp.url}/ui/#/instances`);
  await page.getByRole('cell', { name: instance, exact: true }).waitFor();
  t.equal(await page.getByText('act on its group').count(), 2, 'group members are acted on through their group');
  await shoot('instances');
  await page.getByRole('button', { name: `Suspend ${instance}` }).click();
  await page.getByRole('button', { name: `Resume ${instance}` }).waitFor();
  t.equal((await send(wisp.url, 'GET', `/v1/instances/${instance}`)).json.status, 'suspended', 'the click suspended it');

  await page.goto(`${wisp.url}/ui/#/groups`);
  await page.getByRole('heading', { name: /Group pair/ }).waitFor();
  t.equal(await page.getByRole('table', { name: 'Members of pair' }).getByRole('row').count(), 3, 'a header and two members');
  await shoot('groups');

  await page.goto(`${wisp.url}/ui/#/node`);
  await page.getByRole('meter').first().waitFor();
  t.match(await page.getByRole('meter').first().getAttribute('aria-label'), /^200 of 4000 m$/, 'the two members hold 200 millicores now');
  // Calls and errors while the page watches: the chart's rates rise above zero.
  for (let i = 0; i < 30; i++) await send(wisp.url, 'POST', '/v1/functions/hello/invoke', { name: `n${i}` });
  for (let i = 0; i < 5; i++) await send(wisp.url, 'POST', '/v1/functions/failing/invoke', { why: 'chart' });
  await page.getByRole('img', { name: /^Calls per second, now [1-9][\d.]*; errors per second, now [1-9]/ }).waitFor();
  // Updates more, so that the chart draws a line and not a point.
  for (let i = 0; i < 40; i++) await send(wisp.url, 'POST', '/v1/functions/hello/invoke', { name: `m${i}` });
  await page.locator('svg.chart circle:nth-of-type(6)').waitFor();
  await shoot('resources');

  // Keyboard: the sections are reachable with Tab from the top of the page.
  await page.goto(`${wisp.url}/ui/`);
  await page.keyboard.press('Tab');
  await page.keyboard.press('Tab');
  await page.keyboard.press('Tab');
  t.equal(await page.evaluate('document.activeElement?.textContent'), 'Functions', 'Tab reaches the navigation');
  browser.assertClean();
});

t.test('with tokens, the page asks for one, keeps it for the tab, and never shows it', async (t) => {
  const browser = await openBrowser(t);
  if (!browser) return;
  const { page } = browser;
  const token = 'dashboard-test-token-0123456789abcdef';
  const wisp = await startWispProcess(tempDir(), { WISP_TOKENS: `${token}:deploy` });
  t.teardown(() => void wisp.child.kill('SIGKILL'));
  await fetch(`${wisp.url}/v1/functions/hello`, { method: 'PUT', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/typescript' }, body: example('hello.ts') });
  await page.goto(`${wisp.url}/ui/`);
  const dialog = page.getByRole('dialog', { name: 'This Wisp needs a token' });
  await dialog.waitFor();
  await page.getByRole('textbox', { name: 'Token' }).fill(token);
  await page.getByRole('button', { name: 'Use token' }).click();
  await page.getByRole('link', { name: 'hello', exact: true }).waitFor();
  t.equal(await page.evaluate("sessionStorage.getItem('wisp-token')"), token, 'kept in sessionStorage, for this tab');
  t.notOk((await page.content()).includes(token), 'the token is not in the page');
  t.equal(await page.evaluate('localStorage.length + document.cookie.length'), 0, 'nor in localStorage or a cookie');
  browser.assertClean();
});
