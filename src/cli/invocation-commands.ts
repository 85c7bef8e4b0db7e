// `wisp logs | invocations | cancel | retry`: invocations, their logs (followed as they come),
// and what to do with one.
import type { Command } from 'commander';
import { eachEvent } from './event-stream.js';
import { print, UsageError, type Output } from './output.js';
import { table } from './table.js';
import type { WispClient } from './wisp-client.js';

export interface InvocationView {
  id: string;
  function: string;
  mode: string;
  status: string;
  result: unknown;
  error: { code: string; message: string } | null;
  attempts: number;
  createdAt: string;
  finishedAt: string | null;
}

interface LogEntry {
  time: string | number;
  level: string;
  message: string;
  attempt: number;
}

const FINAL = new Set(['succeeded', 'failed', 'cancelled']);
/** The longest single long-poll; the wait goes on past it. */
const WAIT_SECONDS = 25;
const STATUSES = ['queued', 'running', 'retrying', 'succeeded', 'failed', 'cancelled'];

const path = (id: string) => `/v1/invocations/${encodeURIComponent(id)}`;

/** Long-polls until the invocation is final. */
export async function finalInvocation(client: WispClient, id: string): Promise<InvocationView> {
  for (;;) {
    const { body } = await client.request<InvocationView>('GET', `${path(id)}?wait=${WAIT_SECONDS}`);
    if (FINAL.has(body.status)) return body;
  }
}

const line = (entry: LogEntry) => `${new Date(entry.time).toISOString()} ${entry.level.padEnd(5)} ${entry.attempt > 1 ? `[attempt ${entry.attempt}] ` : ''}${entry.message}`;

export function invocationCommands(program: Command, io: () => Output, client: () => WispClient): void {
  program
    .command('logs')
    .description('print an invocation\'s console lines; --follow waits for more until it is final')
    .argument('<id>', 'the invocation id')
    .option('-f, --follow', 'keep printing new lines until the invocation is final')
    .action(async (id: string, options: { follow?: boolean }) => {
      let shown = 0;
      const printNew = async () => {
        const { body } = await client().request<{ logs: LogEntry[] }>('GET', `${path(id)}/logs`);
        for (const entry of body.logs.slice(shown)) io().out(io().json ? JSON.stringify(entry) : line(entry));
        shown = body.logs.length;
      };
      await printNew();
      if (!options.follow) return;
      // Each state change (an attempt ending stores its lines) is an event; the stream ends after the final one.
      await eachEvent(client(), `${path(id)}/events`, printNew);
      const { body: final } = await client().request<InvocationView>('GET', path(id));
      await printNew();
      if (!io().json) io().err(`invocation ${id} ${final.status}${final.error ? `: ${final.error.code} ${final.error.message}` : ''}`);
    });

  program
    .command('invocations')
    .description('list recent invocations, newest first')
    .option('--function <name>', 'only this function\'s')
    .option('--status <status>', `only those in this state (${STATUSES.join(', ')})`)
    .option('--limit <n>', 'how many', '50')
    .action(async (options: { function?: string; status?: string; limit: string }) => {
      if (options.status && !STATUSES.includes(options.status)) throw new UsageError('INVALID_ARGUMENT', `--status must be one of ${STATUSES.join(', ')}`);
      const query = new URLSearchParams({ limit: options.limit });
      if (options.function) query.set('function', options.function);
      if (options.status) query.set('status', options.status);
      const { body } = await client().request<{ invocations: InvocationView[] }>('GET', `/v1/invocations?${query}`);
      print(io(), body, () =>
        table(
          ['ID', 'FUNCTION', 'STATUS', 'ATTEMPTS', 'CREATED', 'ERROR'],
          body.invocations.map((i) => [i.id, i.function, i.status, i.attempts, i.createdAt, i.error ? `${i.error.code}: ${i.error.message}`.slice(0, 80) : '']),
        ),
      );
    });

  program
    .command('cancel')
    .description('cancel a queued or running asynchronous invocation')
    .argument('<id>')
    .action(async (id: string) => {
      const { body } = await client().request<InvocationView>('DELETE', path(id));
      print(io(), body, () => `invocation ${id} ${body.status === 'cancelled' ? 'cancelled' : `is stopping (${body.status})`}`);
    });

  program
    .command('retry')
    .description('run a failed or cancelled invocation again, with the same id')
    .argument('<id>')
    .action(async (id: string) => {
      const { body } = await client().request<InvocationView>('POST', `${path(id)}/retry`);
      print(io(), body, () => `invocation ${id} ${body.status}`);
    });
}
