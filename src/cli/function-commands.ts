// `wisp deploy | ls | versions | rollback | rm | env set | invoke`: functions and calling them.
import type { Command } from 'commander';
import { CliError } from './cli-error.js';
import { jsonArgument, print, readStdin, UsageError, type Output } from './output.js';
import { table } from './table.js';
import { deployBody, withProgress } from './upload-body.js';
import type { WispClient } from './wisp-client.js';
import { finalInvocation, type InvocationView } from './invocation-commands.js';

interface VersionView {
  name: string;
  version: number;
  digest: string;
  createdAt: string;
  config: Record<string, unknown>;
}

interface FunctionView {
  name: string;
  activeVersion: number;
  latestVersion: number;
  updatedAt: string;
}

/** Past this size an upload shows its progress. */
const PROGRESS_BYTES = 1024 * 1024;

const mb = (bytes: number) => `${(bytes / 2 ** 20).toFixed(1)} MB`;
const fn = (name: string) => `/v1/functions/${encodeURIComponent(name)}`;

export function functionCommands(program: Command, io: () => Output, client: () => WispClient): void {
  program
    .command('deploy')
    .description('deploy a module (.ts, .js), an archive (.zip, .tar.gz) or a directory (archived with its node_modules)')
    .argument('<path>', 'the file or directory')
    .option('--name <name>', 'the function\'s name (default: the file\'s name without its extension)')
    .option('--config <json>', 'config that overrides the module\'s `export const config`: JSON, or @file')
    .action(async (path: string, options: { name?: string; config?: string }) => {
      const config = await jsonArgument(options.config, '--config', readStdin);
      const body = await deployBody(path, config);
      const name = options.name ?? body.defaultName;
      const large = body.bytes.byteLength > PROGRESS_BYTES;
      if (large) io().err(`uploading ${name}: ${mb(body.bytes.byteLength)}`);
      let shown = 0;
      const bytes = large
        ? withProgress(body.bytes, (sent, total) => {
            // A line per tenth on a pipe; redrawn in place on a terminal.
            if (io().tty) process.stderr.write(`\r  ${mb(sent)} of ${mb(total)}`);
            else if (sent - shown >= total / 10 || sent === total) io().err(`  ${mb(sent)} of ${mb(total)}`);
            if (sent - shown >= total / 10) shown = sent;
          })
        : body.bytes;
      const { body: version } = await client().request<VersionView>('PUT', fn(name), { raw: { bytes, contentType: body.contentType } });
      if (large && io().tty) process.stderr.write('\n');
      print(io(), version, () => `deployed ${version.name} version ${version.version} (${version.digest.slice(0, 19)})`);
    });

  program
    .command('ls')
    .description('list the deployed functions')
    .action(async () => {
      const { body } = await client().request<{ functions: FunctionView[] }>('GET', '/v1/functions');
      print(io(), body, () =>
        body.functions.length === 0 ? 'no functions deployed (wisp deploy FILE)' : table(['NAME', 'ACTIVE', 'LATEST', 'UPDATED'], body.functions.map((f) => [f.name, f.activeVersion, f.latestVersion, f.updatedAt])),
      );
    });

  program
    .command('versions')
    .description('list a function\'s versions')
    .argument('<name>')
    .action(async (name: string) => {
      const { body } = await client().request<{ versions: VersionView[] }>('GET', `${fn(name)}/versions`);
      print(io(), body, () => table(['VERSION', 'DEPLOYED', 'DIGEST'], body.versions.map((v) => [v.version, v.createdAt, v.digest.slice(0, 19)])));
    });

  program
    .command('rollback')
    .description('make an earlier version the active one')
    .argument('<name>')
    .argument('<version>', 'the version to make active', versionNumber)
    .action(async (name: string, version: number) => {
      const { body } = await client().request<FunctionView>('PATCH', fn(name), { body: { activeVersion: version } });
      print(io(), body, () => `${body.name} now runs version ${body.activeVersion}`);
    });

  program
    .command('rm')
    .description('delete a function, its versions and its env')
    .argument('<name>')
    .action(async (name: string) => {
      await client().request('DELETE', fn(name));
      print(io(), { deleted: name }, () => `deleted ${name}`);
    });

  const env = program.command('env').description('a function\'s environment (secrets): values are never shown');
  env
    .command('set')
    .description('set variables (KEY=VALUE …) of a function')
    .argument('<name>')
    .argument('<pairs...>', 'KEY=VALUE')
    .action(async (name: string, pairs: string[]) => {
      const set: Record<string, string> = {};
      for (const pair of pairs) {
        const at = pair.indexOf('=');
        if (at <= 0) throw new UsageError('INVALID_ARGUMENT', `"${pair}" is not KEY=VALUE`);
        set[pair.slice(0, at)] = pair.slice(at + 1);
      }
      const { body } = await client().request<{ env: unknown[] }>('PATCH', `${fn(name)}/env`, { body: set });
      print(io(), body, () => `${name}: set ${Object.keys(set).join(', ')}`);
    });
  env
    .command('ls')
    .description('list the names of a function\'s variables')
    .argument('<name>')
    .action(async (name: string) => {
      const { body } = await client().request<{ env: { name: string; updatedAt: string }[] }>('GET', `${fn(name)}/env`);
      print(io(), body, () => (body.env.length === 0 ? `${name} has no variables` : table(['NAME', 'UPDATED'], body.env.map((e) => [e.name, e.updatedAt]))));
    });

  program
    .command('invoke')
    .description('call a function with JSON input (inline, @file, or - for stdin) and print its result')
    .argument('<name>')
    .argument('[input]', 'the input: JSON, @file, or - to read stdin')
    .option('--async', 'submit an asynchronous invocation and print its id')
    .option('--wait', 'with --async: wait until it is final, and print its result')
    .action(async (name: string, inputText: string | undefined, options: { async?: boolean; wait?: boolean }) => {
      const input = await jsonArgument(inputText, 'the input', readStdin);
      const send = input === undefined ? {} : { body: input };
      if (!options.async) {
        if (options.wait) throw new UsageError('INVALID_ARGUMENT', '--wait goes with --async (a synchronous call always waits)');
        const { body } = await client().request('POST', `${fn(name)}/invoke`, send);
        return print(io(), body, () => (typeof body === 'string' ? body : JSON.stringify(body, null, 2)));
      }
      const { body: submitted } = await client().request<InvocationView>('POST', `${fn(name)}/invocations`, send);
      if (!options.wait) return print(io(), submitted, () => submitted.id);
      const final = await finalInvocation(client(), submitted.id);
      if (final.status !== 'succeeded') {
        if (io().json) print(io(), final, () => '');
        throw new CliError(final.error?.code ?? `INVOCATION_${final.status.toUpperCase()}`, `invocation ${final.id} ${final.status}: ${final.error?.message ?? ''}`.trim());
      }
      print(io(), final, () => (typeof final.result === 'string' ? final.result : JSON.stringify(final.result, null, 2)));
    });
}

function versionNumber(text: string): number {
  if (!/^[1-9]\d*$/.test(text)) throw new UsageError('INVALID_ARGUMENT', `the version must be a whole number from 1, not "${text}"`);
  return Number(text);
}
