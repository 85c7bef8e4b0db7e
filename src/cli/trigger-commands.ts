// `wisp triggers | trigger add | trigger rm`: webhooks (GitHub, Stripe, Standard Webhooks) and
// cron schedules that invoke a function.
import type { Command } from 'commander';
import { jsonArgument, print, readStdin, UsageError, type Output } from './output.js';
import { table } from './table.js';
import type { WispClient } from './wisp-client.js';

interface TriggerView {
  id: string;
  type: 'webhook' | 'cron';
  scheme?: string;
  url?: string;
  schedule?: string;
  timezone?: string | null;
  nextRunAt?: string | null;
}

interface AddOptions {
  github?: string;
  stripe?: string;
  standard?: string;
  cron?: string;
  timezone?: string;
  input?: string;
}

const triggers = (name: string) => `/v1/functions/${encodeURIComponent(name)}/triggers`;

const detail = (trigger: TriggerView) => (trigger.type === 'webhook' ? `${trigger.scheme} ${trigger.url}` : `${trigger.schedule}${trigger.timezone ? ` (${trigger.timezone})` : ''}, next ${trigger.nextRunAt ?? 'never'}`);

export function triggerCommands(program: Command, io: () => Output, client: () => WispClient): void {
  program
    .command('triggers')
    .description('list a function\'s triggers (webhook secrets are never shown)')
    .argument('<function>')
    .action(async (name: string) => {
      const { body } = await client().request<{ triggers: TriggerView[] }>('GET', triggers(name));
      print(io(), body, () => (body.triggers.length === 0 ? `${name} has no triggers` : table(['ID', 'TYPE', 'DETAIL'], body.triggers.map((t) => [t.id, t.type, detail(t)]))));
    });

  const trigger = program.command('trigger').description('add or remove a trigger');
  trigger
    .command('add')
    .description('add a webhook (point the sender at the printed URL) or a cron schedule; exactly one of --github, --stripe, --standard, --cron')
    .argument('<function>')
    .option('--github <secret>', 'a GitHub webhook with this secret')
    .option('--stripe <secret>', 'a Stripe webhook with this signing secret (whsec_…)')
    .option('--standard <secret>', 'a Standard Webhooks sender with this secret (whsec_ and base64)')
    .option('--cron <schedule>', 'five cron fields, or six with seconds first ("*/5 * * * *")')
    .option('--timezone <zone>', 'with --cron: an IANA zone (default UTC)')
    .option('--input <json>', 'with --cron: what each run receives (JSON, or @file)')
    .action(async (name: string, options: AddOptions) => {
      const kinds = (['github', 'stripe', 'standard', 'cron'] as const).filter((kind) => options[kind] !== undefined);
      if (kinds.length !== 1) throw new UsageError('INVALID_ARGUMENT', `give exactly one of --github, --stripe, --standard, --cron${kinds.length ? ` (got ${kinds.map((k) => `--${k}`).join(', ')})` : ''}`);
      const kind = kinds[0]!;
      if (kind !== 'cron' && (options.timezone || options.input)) throw new UsageError('INVALID_ARGUMENT', '--timezone and --input go with --cron');
      const input = await jsonArgument(options.input, '--input', readStdin);
      const request =
        kind === 'cron'
          ? { type: 'cron', schedule: options.cron, ...(options.timezone ? { timezone: options.timezone } : {}), ...(input !== undefined ? { input } : {}) }
          : { type: 'webhook', scheme: kind, secret: options[kind] };
      const { body } = await client().request<TriggerView>('POST', triggers(name), { body: request });
      print(io(), body, () => `${body.id} ${detail(body)}`);
    });
  trigger
    .command('rm')
    .description('remove a trigger')
    .argument('<function>')
    .argument('<id>')
    .action(async (name: string, id: string) => {
      await client().request('DELETE', `${triggers(name)}/${encodeURIComponent(id)}`);
      print(io(), { deleted: id }, () => `deleted ${id}`);
    });
}
