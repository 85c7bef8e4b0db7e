// `wisp groups | group create | suspend | resume | rm`: groups of instances, as one unit.
import type { Command } from 'commander';
import { jsonArgument, print, readStdin, type Output } from './output.js';
import { table } from './table.js';
import type { WispClient } from './wisp-client.js';

interface GroupView {
  name: string;
  status: string;
  restarts: number;
  node?: string;
  failure: string | null;
  instances: { id: string; function: string; status: string; node?: string }[];
}

const path = (name: string) => `/v1/groups/${encodeURIComponent(name)}`;

const members = (group: GroupView) =>
  table(
    ['MEMBER', 'FUNCTION', 'STATUS', 'NODE'],
    group.instances.map((m) => [m.id, m.function, m.status, m.node ?? '']),
  );

export function groupCommands(program: Command, io: () => Output, client: () => WispClient): void {
  program
    .command('groups')
    .description('list groups')
    .action(async () => {
      const { body } = await client().request<{ groups: GroupView[] }>('GET', '/v1/groups');
      print(io(), body, () =>
        body.groups.length === 0 ? 'no groups (wisp group create FILE.json)' : table(['NAME', 'STATUS', 'MEMBERS', 'RESTARTS', 'FAILURE'], body.groups.map((g) => [g.name, g.status, g.instances.length, g.restarts, g.failure ?? ''])),
      );
    });

  const group = program.command('group').description('create, show, suspend, resume or delete one group');
  group
    .command('create')
    .description('create a group from its definition (the body of POST /v1/groups): a JSON file, or - for stdin')
    .argument('<file>', 'FILE.json, or -')
    .action(async (file: string) => {
      const definition = await jsonArgument(file === '-' ? '-' : `@${file}`, file, readStdin);
      const { body } = await client().request<GroupView>('POST', '/v1/groups', { body: definition });
      print(io(), body, () => `${body.name} ${body.status}\n${members(body)}`);
    });
  group
    .command('show')
    .description('a group and its members')
    .argument('<name>')
    .action(async (name: string) => {
      const { body } = await client().request<GroupView>('GET', path(name));
      print(io(), body, () => `${body.name} ${body.status}${body.failure ? `: ${body.failure}` : ''}\n${members(body)}`);
    });
  for (const [command, description] of [
    ['suspend', 'checkpoint every member as one generation and stop them'],
    ['resume', 'place the group again and start every member from that generation'],
  ] as const) {
    group
      .command(command)
      .description(description)
      .argument('<name>')
      .action(async (name: string) => {
        const { body } = await client().request<GroupView>('POST', `${path(name)}/${command}`);
        print(io(), body, () => `${body.name} ${body.status}`);
      });
  }
  group
    .command('rm')
    .description('delete a group and all its members')
    .argument('<name>')
    .action(async (name: string) => {
      await client().request('DELETE', path(name));
      print(io(), { deleted: name }, () => `deleted ${name}`);
    });
}
