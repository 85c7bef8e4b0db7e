import t from 'tap';
import { isAbsolute } from 'node:path';
import { ConfigError, loadConfig } from '../dist/config.js';

t.test('defaults: loopback on 8080, ./data, design limits', async (t) => {
  const config = loadConfig({ env: {} });
  t.equal(config.host, '127.0.0.1');
  t.equal(config.port, 8080);
  t.ok(isAbsolute(config.dataDir) && config.dataDir.endsWith('data'));
  t.equal(config.limits.uploadBytes, 50 * 2 ** 20);
  t.equal(config.limits.requestBodyBytes, 6 * 2 ** 20);
  t.equal(config.functions.defaultTimeoutMs, 30_000);
  t.ok(config.pool.maxThreads >= 1, 'maxThreads null means one per core');
});

t.test('WISP_HOST, WISP_PORT and WISP_DATA_DIR override', async (t) => {
  const config = loadConfig({ env: { WISP_HOST: '0.0.0.0', WISP_PORT: '9999', WISP_DATA_DIR: '/tmp/wisp-x', WISP_TOKENS: 'a-token-of-sixteen-chars:admin' } });
  t.equal(config.host, '0.0.0.0');
  t.equal(config.port, 9999);
  t.equal(config.dataDir, '/tmp/wisp-x');
});

t.test('WISP_CONFIG names a file merged over the defaults', async (t) => {
  const dir = t.testdir({ 'wisp.json': JSON.stringify({ limits: { uploadBytes: 1234 }, pool: { maxThreads: 3 } }) });
  const config = loadConfig({ env: { WISP_CONFIG: `${dir}/wisp.json` } });
  t.equal(config.limits.uploadBytes, 1234);
  t.equal(config.limits.requestBodyBytes, 6 * 2 ** 20, 'siblings keep their defaults');
  t.equal(config.pool.maxThreads, 3);
});

t.test('bad values are refused with a message naming them', async (t) => {
  t.throws(() => loadConfig({ env: { WISP_PORT: 'eighty' } }), { name: 'ConfigError', message: /WISP_PORT must be a whole number/ });
  t.throws(() => loadConfig({ env: {}, overrides: { port: 70000 } }), /\/port must be <= 65535/);
  t.throws(() => loadConfig({ env: { WISP_CONFIG: '/nonexistent/wisp.json' } }), ConfigError);
  const dir = t.testdir({ 'bad.json': JSON.stringify({ limits: { uploadByte: 1 } }) });
  t.throws(() => loadConfig({ env: { WISP_CONFIG: `${dir}/bad.json` } }), /must NOT have additional properties/);
  const warm = t.testdir({ negative: JSON.stringify({ instances: { warmThreads: -1 } }), fraction: JSON.stringify({ instances: { warmThreads: 1.5 } }) });
  t.throws(() => loadConfig({ env: { WISP_CONFIG: `${warm}/negative` } }), { name: 'ConfigError', message: /\/instances\/warmThreads must be >= 0/ });
  t.throws(() => loadConfig({ env: { WISP_CONFIG: `${warm}/fraction` } }), { name: 'ConfigError', message: /\/instances\/warmThreads must be integer/ });
  t.equal(loadConfig({ env: {} }).instances.warmThreads, 24, 'kept by default: 24');
});

t.test('the config is frozen', async (t) => {
  const config = loadConfig({ env: {} });
  t.ok(Object.isFrozen(config) && Object.isFrozen(config.limits));
  t.throws(() => {
    (config as { port: number }).port = 1;
  });
});

t.test('the Redis store settings: WISP_REDIS_URL and WISP_REDIS_PREFIX, and a URL that is not one is refused', async (t) => {
  t.same(loadConfig({ env: {} }).store, { redisUrl: null, redisPrefix: 'wisp:' }, 'embedded by default');
  t.same(loadConfig({ env: { WISP_REDIS_URL: 'redis://127.0.0.1:6379', WISP_REDIS_PREFIX: 'a:' } }).store, { redisUrl: 'redis://127.0.0.1:6379', redisPrefix: 'a:' });
  t.throws(() => loadConfig({ env: { WISP_REDIS_URL: 'localhost:6379' } }), { name: 'ConfigError', message: /store\/redisUrl/ });
});

t.test('cluster settings: WISP_NODE_ID, WISP_ADVERTISE_URL and WISP_CLUSTER_SECRET; bad ones are refused, naming the field', async (t) => {
  const config = loadConfig({ env: { WISP_NODE_ID: 'node-7', WISP_ADVERTISE_URL: 'http://10.0.0.7:8080', WISP_CLUSTER_SECRET: 'a-secret-of-enough-length' } });
  t.same([config.cluster.nodeId, config.cluster.advertiseUrl, config.cluster.secret], ['node-7', 'http://10.0.0.7:8080', 'a-secret-of-enough-length']);
  t.same([config.cluster.heartbeatMs, config.cluster.leaseMs, config.cluster.deadMarginMs], [1000, 4000, 2000]);
  t.throws(() => loadConfig({ env: { WISP_NODE_ID: 'no spaces' } }), { name: 'ConfigError', message: /\/cluster\/nodeId/ });
  t.throws(() => loadConfig({ env: { WISP_ADVERTISE_URL: 'ftp://x' } }), { name: 'ConfigError', message: /\/cluster\/advertiseUrl/ });
  t.throws(() => loadConfig({ env: { WISP_CLUSTER_SECRET: 'short' } }), { name: 'ConfigError', message: /\/cluster\/secret/ });
  t.throws(() => loadConfig({ env: {}, overrides: { cluster: { heartbeatMs: 1000, leaseMs: 1500 } } }), { name: 'ConfigError', message: /cluster.leaseMs \(1500\) must be at least twice cluster.heartbeatMs \(1000\)/ });
});
