// Workers keep loaded modules in a bounded LRU cache: 150 redeploys of one function, each
// version holding 1 MB, run in a worker whose heap is capped at 48 MB. Were old versions kept
// (as ESM import() would keep them), the worker would run out of memory a third of the way in.
// (150, not more: each deploy's load check now starts a child process, ~75 ms.)
import t from 'tap';
import { deploy, invoke, startWisp } from '../helpers/wisp.js';
import type { App } from '../helpers/wisp.js';

const REDEPLOYS = 150;

const versionSource = (n: number) =>
  `export const config = { memoryMb: 48 };\nconst payload = "v${n}:" + "x".repeat(1 << 20);\nexport default () => payload.slice(0, ${String(n).length + 2});`;

async function stats(app: App) {
  return app.wisp.pool.run({ kind: 'stats' }, { memoryMb: 48, timeoutMs: 5000 });
}

t.test('memory stays bounded after 150 redeploys of one function', async (t) => {
  const app = await startWisp(t, { pool: { maxThreads: 1, moduleCacheEntries: 16 } });
  let failures = 0;
  for (let n = 1; n <= REDEPLOYS; n++) {
    const deployed = await deploy(app, 'churn', versionSource(n));
    const called = await invoke(app, 'churn');
    if (deployed.statusCode !== 201 || called.statusCode !== 200 || called.json() !== `v${n}:`) {
      failures++;
      t.fail(`version ${n}: deploy ${deployed.statusCode}, call ${called.statusCode} ${called.body.slice(0, 200)}`);
      if (failures > 3) break;
    }
  }
  t.equal(failures, 0, `all ${REDEPLOYS} versions deployed and answered`);
  const after = await stats(app);
  t.ok(after.cachedModules <= 16, `the cache holds ${after.cachedModules} modules (limit 16)`);
  t.ok(after.heapUsedBytes < 48 * 2 ** 20, `heap in use ${Math.round(after.heapUsedBytes / 2 ** 20)} MB, under the 48 MB cap`);
  const versions = (await app.inject('/v1/functions/churn/versions')).json().versions;
  t.equal(versions.length, REDEPLOYS);
});
