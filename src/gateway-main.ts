// The gateway process: load the config, build the app, listen; shut down gracefully on SIGTERM and
// SIGINT. Started by the supervisor (main.ts), which restarts it if it dies; it tells the
// supervisor its port once it listens, and stops at once if the supervisor is gone.
import { buildApp } from './app.js';
import { advertisedUrl } from './cluster/node-identity.js';
import { ConfigError, loadConfig } from './config.js';
import type { AddressInfo } from 'node:net';
import { shutDown } from './shutdown.js';
import { StoreUnreachableError } from './store/redis-backend.js';
import type { GatewayReady } from './supervisor.js';

async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(`wisp: ${err.message}`);
      process.exit(2);
    }
    throw err;
  }
  let app;
  try {
    app = await buildApp(config);
  } catch (err) {
    if (err instanceof StoreUnreachableError) {
      console.error(`wisp: ${err.message}`);
      process.exit(3);
    }
    throw err;
  }
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    app.log.info({ signal, graceMs: config.shutdown.graceMs }, 'shutting down');
    shutDown(app, config.shutdown.graceMs).then(
      () => process.exit(0),
      (err: unknown) => {
        app.log.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  const address = await app.listen({ host: config.host, port: config.port });
  const { port } = app.server.address() as AddressInfo;
  app.wisp.cluster.advertise(advertisedUrl(config.cluster.advertiseUrl, config.host, port));
  app.log.info(`Wisp listening on ${address} (data in ${config.dataDir}); API docs at ${address}/docs`);
  if (process.send) {
    process.send({ kind: 'ready', port } satisfies GatewayReady);
    // A gateway without its supervisor would be restarted by nobody: it goes with it.
    process.on('disconnect', () => process.exit(1));
  }
}

await main();
