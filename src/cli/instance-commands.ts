// `wisp instances | create | call | suspend | resume | kill`: stateful instances by handle id.
import type { Command } from 'commander';
import { jsonArgument, print, readStdin, type Output } from './output.js';
import { table } from './table.js';
import type { WispClient } from './wisp-client.js';
// The API's own view of an instance (a type only: the CLI loads nothing of the server for it).
import type { InstanceView } from '../instances/instance-record.js';

const path = (id: string) => `/v1/instances/${encodeURIComponent(id)}`;

/** A method argument: JSON when it parses as JSON (1, true, {"a":1}, "quoted"), else the text itself. */
function argumentValue(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

const resultText = (value: unknown) => (typeof value === 'string' ? value : JSON.stringify(value, null, 2));

export function instanceCommands(program: Command, io: () => Output, client: () => WispClient): void {
  program
    .command('instances')
    .description('list instances')
    .option('--function <name>', 'only this function\'s')
    .action(async (options: { function?: string }) => {
      const query = options.function ? `?function=${encodeURIComponent(options.function)}` : '';
      const { body } = await client().request<{ instances: InstanceView[] }>('GET', `/v1/instances${query}`);
      print(io(), body, () =>
        body.instances.length === 0
          ? 'no instances (wisp create FUNCTION)'
          : table(
              ['ID', 'FUNCTION', 'CLASS', 'STATUS', 'NAME', 'GROUP', 'NODE'],
              body.instances.map((i) => [i.id, `${i.function}@${i.version}`, i.class, i.status, i.name ?? '', i.group ?? '', i.node ?? '']),
            ),
      );
    });

  program
    .command('create')
    .description('create an instance of a class a function exports, and print its id')
    .argument('<function>')
    .option('--class <class>', 'which exported class (needed when there are several)')
    .option('--args <json>', 'the constructor\'s arguments: a JSON array, or @file')
    .option('--name <name>', 'a name: creating it again gives the same instance')
    .action(async (name: string, options: { class?: string; args?: string; name?: string }) => {
      const args = await jsonArgument(options.args, '--args', readStdin);
      const request = { ...(options.class ? { class: options.class } : {}), ...(args !== undefined ? { args } : {}), ...(options.name ? { name: options.name } : {}) };
      const { body } = await client().request<InstanceView>('POST', `/v1/functions/${encodeURIComponent(name)}/instances`, { body: request });
      print(io(), body, () => body.id);
    });

  program
    .command('call')
    .description('call a method of an instance and print what it returned')
    .argument('<id>', 'the instance id')
    .argument('<method>')
    .argument('[args...]', 'its arguments, each JSON (1, true, {"a":1}) or else taken as text')
    .action(async (id: string, method: string, args: string[]) => {
      const { body } = await client().request('POST', `${path(id)}/methods/${encodeURIComponent(method)}`, { body: args.map(argumentValue) });
      print(io(), body, () => resultText(body));
    });

  for (const [command, description] of [
    ['suspend', 'checkpoint an instance and stop its thread (its resources are released)'],
    ['resume', 'start a suspended instance again from its checkpoint'],
  ] as const) {
    program
      .command(command)
      .description(description)
      .argument('<id>')
      .action(async (id: string) => {
        const { body } = await client().request<InstanceView>('POST', `${path(id)}/${command}`);
        print(io(), body, () => `${body.id} ${body.status}`);
      });
  }

  program
    .command('kill')
    .description('delete an instance: its thread stops and its state is gone')
    .argument('<id>')
    .action(async (id: string) => {
      await client().request('DELETE', path(id));
      print(io(), { deleted: id }, () => `deleted ${id}`);
    });
}
