// Entry point (npm start): runs the gateway under a supervisor that restarts it if it dies
// (see supervisor.ts); SIGTERM and SIGINT go to the gateway, which shuts down gracefully.
import { gatewayEnvironment } from './config.js';
import { Supervisor } from './supervisor.js';

const supervisor = new Supervisor({
  env: gatewayEnvironment(),
  log: (level, message) => console.log(JSON.stringify({ level: level === 'error' ? 50 : 30, time: Date.now(), pid: process.pid, role: 'supervisor', msg: message })),
});
process.on('SIGTERM', () => supervisor.stop('SIGTERM'));
process.on('SIGINT', () => supervisor.stop('SIGINT'));
process.exitCode = await supervisor.run();
