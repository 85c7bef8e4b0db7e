#!/usr/bin/env node
// npm run bench:security: what the protections cost on the invoke path. Side by side in one run,
// rounds alternating: (a) Wisp as shipped on loopback (no tokens: the gate passes at once, load
// shedding watches the event loop), (b) Wisp with a bearer token checked on every call and the
// per-token rate limit on (set too high to refuse anything, so only its bookkeeping is measured).
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { api, duration, ensureWrk, median, rounds, start, wrk } from './lib.mjs';

const TOKEN = 'bench-token-0123456789abcdef';
const SOURCE = 'export default (input: { name?: string } | null) => ({ greeting: `Hello, ${input?.name ?? "world"}` });';

function postScript(dir, name, headers) {
  const file = join(dir, name);
  const lines = ['wrk.method = "POST"', 'wrk.body = \'{"name":"bench"}\'', 'wrk.headers["Content-Type"] = "application/json"'];
  for (const [key, value] of Object.entries(headers)) lines.push(`wrk.headers["${key}"] = "${value}"`);
  writeFileSync(file, `${lines.join('\n')}\n`);
  return file;
}

async function main() {
  ensureWrk();
  const work = mkdtempSync(join(tmpdir(), 'wisp-bench-security-'));
  const configFile = join(work, 'secured.json');
  writeFileSync(configFile, JSON.stringify({ limits: { rateLimit: { max: 1_000_000_000, windowMs: 1000 } } }));
  const plain = await start(['dist/main.js'], { WISP_PORT: '0', WISP_DATA_DIR: join(work, 'plain') });
  const secured = await start(['dist/main.js'], { WISP_PORT: '0', WISP_DATA_DIR: join(work, 'secured'), WISP_TOKENS: `${TOKEN}:invoke,${TOKEN}-deploy:deploy`, WISP_CONFIG: configFile });
  try {
    await api(plain.url, 'PUT', '/v1/functions/hello', SOURCE);
    const deployed = await fetch(`${secured.url}/v1/functions/hello`, { method: 'PUT', headers: { 'content-type': 'application/typescript', authorization: `Bearer ${TOKEN}-deploy` }, body: SOURCE });
    if (deployed.status !== 201) throw new Error(`deploy failed: ${await deployed.text()}`);
    const plainScript = postScript(work, 'plain.lua', {});
    const securedScript = postScript(work, 'secured.lua', { Authorization: `Bearer ${TOKEN}` });
    const target = (base) => `${base}/v1/functions/hello/invoke`;
    wrk(target(plain.url), 10, plainScript);
    wrk(target(secured.url), 10, securedScript);
    console.log(`\nwrk -t1 -d${duration}s, median of ${rounds} alternating rounds`);
    console.log('a = Wisp, no tokens (as shipped); b = Wisp, bearer token + per-token rate limit\n');
    console.log('conns | a req/s  | a p50 ms | b req/s  | b p50 ms | b/a req/s | b-a p50 ms');
    for (const connections of [50, 1]) {
      const a = [];
      const b = [];
      for (let round = 0; round < rounds; round++) {
        a.push(wrk(target(plain.url), connections, plainScript));
        b.push(wrk(target(secured.url), connections, securedScript));
      }
      const rps = (runs) => median(runs.map((r) => r.rps));
      const p50 = (runs) => median(runs.map((r) => r.p50));
      const f = (n, d = 3) => n.toFixed(d).padStart(8);
      console.log(`${String(connections).padStart(5)} | ${f(rps(a), 0)} | ${f(p50(a))} | ${f(rps(b), 0)} | ${f(p50(b))} | ${f(rps(b) / rps(a), 2)}  | ${f(p50(b) - p50(a))}`);
    }
  } finally {
    plain.child.kill('SIGTERM');
    secured.child.kill('SIGTERM');
  }
}

await main();
