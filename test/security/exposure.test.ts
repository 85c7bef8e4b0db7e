// Safe by default: without tokens Wisp listens on loopback only, and refuses anything else with
// a message that says how to make a token.
import t from 'tap';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { hashToken, isLoopbackHost, parseTokenList } from '../../dist/auth/tokens.js';
import { loadConfig } from '../../dist/config.js';
import { tempDir } from '../helpers/temp-dir.js';

const MAIN = fileURLToPath(new URL('../../dist/main.js', import.meta.url));
const TOKEN = 'a-long-enough-token-123';

t.test('the default host is loopback and needs no token', async (t) => {
  const config = loadConfig({ env: {} });
  t.equal(config.host, '127.0.0.1');
  t.same(config.auth.tokens, []);
});

t.test('a non-loopback host without tokens is refused, saying how to configure them', async (t) => {
  for (const host of ['0.0.0.0', '::', '192.168.1.10', 'wisp.example.com']) {
    t.throws(() => loadConfig({ env: { WISP_HOST: host } }), { name: 'ConfigError', message: /refusing to listen on .* with no tokens.*npm run token -- admin.*WISP_TOKENS=<token>:admin/ }, host);
  }
  for (const host of ['127.0.0.1', '127.0.0.2', 'localhost', '::1', '[::1]']) t.equal(isLoopbackHost(host), true, host);
  t.equal(loadConfig({ env: { WISP_HOST: '0.0.0.0', WISP_TOKENS: `${TOKEN}:admin` } }).host, '0.0.0.0', 'with a token it starts');
});

t.test('the process exits 2 with that message, before it listens', async (t) => {
  const child = spawn(process.execPath, [MAIN], { env: { PATH: process.env.PATH ?? '', WISP_HOST: '0.0.0.0', WISP_PORT: '0', WISP_DATA_DIR: tempDir() }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (chunk) => (stderr += chunk));
  const [code] = await once(child, 'exit');
  t.equal(code, 2);
  t.match(stderr, /wisp: refusing to listen on 0\.0\.0\.0 with no tokens/);
});

t.test('WISP_TOKENS is token:scope,token:scope, kept only as hashes', async (t) => {
  const entries = parseTokenList(`${TOKEN}:deploy, other-token-0123456789:invoke`);
  t.same(entries, [
    { name: 'env-1', scope: 'deploy', sha256: hashToken(TOKEN) },
    { name: 'env-2', scope: 'invoke', sha256: hashToken('other-token-0123456789') },
  ]);
  t.notMatch(JSON.stringify(loadConfig({ env: { WISP_TOKENS: `${TOKEN}:admin` } })), TOKEN, 'the config holds no token');
  t.throws(() => loadConfig({ env: { WISP_TOKENS: `${TOKEN}:root` } }), /entry 1 must be token:scope with scope admin, deploy or invoke/);
  t.throws(() => loadConfig({ env: { WISP_TOKENS: 'short:admin' } }), /at least 16 characters \(npm run token -- admin makes one\)/);
});

t.test('the config file holds sha256 hashes, not tokens', async (t) => {
  const dir = t.testdir({
    'good.json': JSON.stringify({ host: '0.0.0.0', auth: { tokens: [{ name: 'ci', scope: 'deploy', sha256: hashToken(TOKEN) }] } }),
    'plain.json': JSON.stringify({ auth: { tokens: [{ name: 'ci', scope: 'deploy', token: TOKEN }] } }),
  });
  t.equal(loadConfig({ env: { WISP_CONFIG: `${dir}/good.json` } }).auth.tokens[0]!.name, 'ci');
  t.throws(() => loadConfig({ env: { WISP_CONFIG: `${dir}/plain.json` } }), /auth\/tokens\/0 must have required property 'sha256'|must NOT have additional properties/);
});
