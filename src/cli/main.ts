#!/usr/bin/env node
// The `wisp` command (package.json `bin`). Each command group is a file of its own; this one
// builds the program, and turns a failure into one line on stderr, `error CODE: what to do`,
// and a documented exit code.
import { Command, CommanderError } from 'commander';
import { CliError, EXIT } from './cli-error.js';
import { clusterCommands } from './cluster-commands.js';
import { devCommand } from './dev-command.js';
import { functionCommands } from './function-commands.js';
import { groupCommands } from './group-commands.js';
import { instanceCommands } from './instance-commands.js';
import { invocationCommands } from './invocation-commands.js';
import type { Output } from './output.js';
import { tokenCommand } from './token-command.js';
import { triggerCommands } from './trigger-commands.js';
import { WispClient } from './wisp-client.js';

const program = new Command('wisp')
  .description('Wisp, a self-hosted serverless function platform, from the terminal')
  .option('--json', 'print the raw answer (JSON) for scripts, instead of a table')
  .exitOverride()
  .showHelpAfterError()
  .addHelpText(
    'after',
    `
Environment:
  WISP_URL     the Wisp to talk to (default http://127.0.0.1:8080)
  WISP_TOKEN   a bearer token, when the Wisp has tokens configured

Exit codes:
  ${EXIT.ok}  done
  ${EXIT.failed}  the operation failed (the error line says why)
  ${EXIT.usage}  the command line is wrong
  ${EXIT.notStarted}  a cluster could not be started (PORT_IN_USE, NO_PORTS_LEFT, CLUSTER_START_TIMEOUT, NODE_EXITED, REDIS_NOT_FOUND)
  ${EXIT.unreachable}  the Wisp at WISP_URL could not be reached

Errors are one line on stderr: "error CODE: what to do", CODE as in Wisp's problem documents.`,
  );

const io = (): Output => ({
  out: (text) => process.stdout.write(`${text}\n`),
  err: (text) => process.stderr.write(`${text}\n`),
  json: program.opts<{ json?: boolean }>().json === true,
  tty: process.stderr.isTTY === true,
});
const client = () => new WispClient();

functionCommands(program, io, client);
invocationCommands(program, io, client);
instanceCommands(program, io, client);
groupCommands(program, io, client);
triggerCommands(program, io, client);
devCommand(program, io);
tokenCommand(program, io);
clusterCommands(program, io);

try {
  await program.parseAsync(process.argv);
} catch (err) {
  if (err instanceof CommanderError) {
    // Help and version end here too, with code 0; commander has printed what it had to.
    process.exitCode = err.exitCode === 0 ? EXIT.ok : EXIT.usage;
  } else if (err instanceof CliError) {
    process.stderr.write(`error ${err.code}: ${err.message}\n`);
    process.exitCode = err.exitCode;
  } else {
    process.stderr.write(`error INTERNAL_ERROR: ${(err as Error).stack ?? String(err)}\n`);
    process.exitCode = EXIT.failed;
  }
}
