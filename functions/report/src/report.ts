// The entry of the report project: package.json names it as "main" (without a "main", Wisp
// takes index.ts, index.mts, index.js, index.mjs or index.cjs at the archive's root). It imports
// another file of the project, and calls the hello function with ctx.invoke, a nested call
// recorded under this one. Deployed as an archive (README, "Deploy and call"):
//   tar czf - -C functions/report . | curl -X PUT localhost:8080/v1/functions/report --data-binary @- -H 'content-type: application/gzip'
//   curl -X POST localhost:8080/v1/functions/report/invoke -d '{"kind":"daily"}'
import { title } from './format.js';

interface Input {
  kind?: string;
  to?: string;
}

/** A cron trigger's run: the trigger's `input` is its payload. */
interface CronRun {
  source: 'cron';
  scheduledAt: string;
  payload: Input | null;
}

interface Context {
  invoke(name: string, input: unknown): Promise<unknown>;
}

export const config = { timeoutMs: 10_000 };

export default async function report(input: Input | CronRun | null, ctx: Context) {
  const { kind = 'daily', to = 'team' } = (input && 'source' in input ? input.payload : input) ?? {};
  const { greeting } = (await ctx.invoke('hello', { name: to })) as { greeting: string };
  console.log(`${kind} report for ${to}`);
  return { title: title(kind, new Date()), greeting };
}
