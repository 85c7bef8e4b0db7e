// Thousands of malformed requests against every route: no 5xx beyond the documented ones (never
// INTERNAL_ERROR), every error as problem details with a catalogued code, no crash, no prototype
// pollution, and no file written outside the data directory. CI runs a fixed seed; `npm run fuzz`
// runs a longer one (WISP_FUZZ_SEED, WISP_FUZZ_COUNT).
import t from 'tap';
import type { InjectOptions } from 'fastify';
import { readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { connect } from 'node:net';
import { once } from 'node:events';
import { catalogue, type ErrorCode } from '../../dist/errors.js';
import { fuzzCase, seededRandom } from './fuzz-cases.js';
import { roomy } from '../helpers/instances.js';
import { invoke, mustDeploy, startWisp } from '../helpers/wisp.js';
import { tempDir } from '../helpers/temp-dir.js';

const SEED = Number(process.env.WISP_FUZZ_SEED ?? 20261121);
const COUNT = Number(process.env.WISP_FUZZ_COUNT ?? 2000);
/** 5xx answers a request may legitimately get: the function's own failures, and capacity. */
const SYSTEM_5XX_ALLOWED = new Set<ErrorCode>(['SERVER_BUSY', 'INSUFFICIENT_RESOURCES', 'OVERLOADED']);

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => !entry.isDirectory())
    .map((entry) => relative(dir, join(entry.parentPath, entry.name)))
    .sort();
}

t.test(`fuzz: ${COUNT} malformed requests, seed ${SEED}`, async (t) => {
  const root = tempDir();
  const dataDir = join(root, 'data');
  const cwdBefore = readdirSync(process.cwd()).sort();
  const app = await startWisp(t, { ...roomy, invocations: { maxWaitSeconds: 1 } as never, limits: { requestBodyBytes: 256 * 1024, uploadBytes: 512 * 1024 } }, dataDir);
  await mustDeploy(t, app, 'hello', 'export default (input: unknown) => ({ echo: input });\nexport class Counter { n = 0; add(k: number) { return (this.n += Number(k) || 0); } }\n');
  await app.ready();
  const routes = app.wispRoutes.filter((route) => !route.url.startsWith('/docs'));
  const random = seededRandom(SEED);
  const failures: string[] = [];
  for (let i = 0; i < COUNT && failures.length < 20; i++) {
    const request = fuzzCase(random, routes);
    const label = `#${i} ${request.method} ${request.url.slice(0, 120)} (${request.headers['content-type'] ?? 'no type'})`;
    let res;
    try {
      res = await app.inject(request as InjectOptions);
    } catch (err) {
      // light-my-request refuses some headers itself (as Node's http client would); nothing reached Wisp.
      if ((err as { code?: string }).code === 'ERR_INVALID_CHAR' || (err as { code?: string }).code === 'ERR_HTTP_INVALID_HEADER_VALUE') continue;
      failures.push(`${label}: inject threw ${(err as Error).message}`);
      continue;
    }
    if (res.statusCode < 400 || request.method === 'HEAD') continue;
    if (!/^application\/problem\+json/.test(String(res.headers['content-type']))) {
      failures.push(`${label}: ${res.statusCode} is not problem details: ${res.body.slice(0, 200)}`);
      continue;
    }
    const code = res.json().code as ErrorCode;
    const entry = catalogue[code];
    if (!entry) failures.push(`${label}: unknown code ${code}`);
    else if (entry.status !== res.statusCode) failures.push(`${label}: ${code} came with ${res.statusCode}, catalogue says ${entry.status}`);
    else if (res.statusCode >= 500 && entry.origin === 'system' && !SYSTEM_5XX_ALLOWED.has(code)) failures.push(`${label}: ${res.statusCode} ${code}: ${res.json().detail}`);
  }
  t.same(failures, [], `replay with WISP_FUZZ_SEED=${SEED} WISP_FUZZ_COUNT=${COUNT}`);
  t.equal(({} as Record<string, unknown>).polluted, undefined, 'Object.prototype was not polluted');
  t.equal((await app.inject('/healthz')).statusCode, 200, 'still up');
  await mustDeploy(t, app, 'hello', 'export default (input: unknown) => ({ echo: input });\n');
  t.same((await invoke(app, 'hello', { a: 1 })).json(), { echo: { a: 1 } }, 'and still runs functions');
  await app.close();
  t.same(filesUnder(root).filter((file) => !file.startsWith('data/')), [], 'nothing was written beside the data dir');
  t.same(readdirSync(process.cwd()).sort(), cwdBefore, 'nor in the working directory');
});

t.test('fuzz over TCP: random bytes and broken HTTP never take the server down', async (t) => {
  const app = await startWisp(t);
  await app.listen({ host: '127.0.0.1', port: 0 });
  const { port } = app.server.address() as { port: number };
  const random = seededRandom(SEED + 1);
  const junk = [
    () => Buffer.from(Array.from({ length: 1 + Math.floor(random() * 512) }, () => Math.floor(random() * 256))),
    () => Buffer.from('GET / HTTP/9.9\r\n\r\n'),
    () => Buffer.from('GET /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n'),
    () => Buffer.from('POST /v1/functions/x/invoke HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\nzzzzz'),
    () => Buffer.from(`GET /${'a'.repeat(70_000)} HTTP/1.1\r\nHost: x\r\n\r\n`),
    () => Buffer.from('GET /healthz HTTP/1.1\r\nHost: x\r\nX: \u0000\u0001\r\n\r\n'),
    () => Buffer.from('\r\n\r\n\r\n'),
  ];
  for (let i = 0; i < 100; i++) {
    const socket = connect(port, '127.0.0.1');
    socket.on('error', () => {});
    await once(socket, 'connect');
    let received = '';
    socket.on('data', (chunk) => (received += chunk));
    socket.end(junk[Math.floor(random() * junk.length)]!());
    await once(socket, 'close');
    if (received && !/^HTTP\/1\.1 (2\d\d|4\d\d) /.test(received)) t.fail(`case ${i}: answered ${received.slice(0, 80)}`);
  }
  t.equal((await fetch(`http://127.0.0.1:${port}/healthz`)).status, 200, 'still serving');
});
