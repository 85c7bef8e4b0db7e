// Entry point: load the config, build the app, listen; shut down gracefully on SIGTERM and SIGINT.
import { buildApp } from './app.js';
import { ConfigError, loadConfig } from './config.js';
import { shutDown } from './shutdown.js';

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
  const app = await buildApp(config);
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
  app.log.info(`Wisp listening on ${address} (data in ${config.dataDir}); API docs at ${address}/docs`);
}

await main();
