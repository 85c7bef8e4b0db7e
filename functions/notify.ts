// Needs the secret API_KEY (PATCH /v1/functions/notify/env). Without it the call fails at once,
// without retries (`retriable = false`), and waits among the dead letters to be run again.
//   curl localhost:8080/v1/functions/notify/invocations -d '{"to":"ops"}'
interface Context {
  invocationId: string;
  env: Record<string, string>;
}

export default async function notify(input: { to?: string } | null, ctx: Context) {
  if (!ctx.env.API_KEY) {
    throw Object.assign(new Error('API_KEY is not set: PATCH /v1/functions/notify/env {"API_KEY": "…"}'), { retriable: false });
  }
  const to = input?.to ?? 'ops';
  // A real one would send here, keyed on ctx.invocationId so that a repeat sends nothing twice.
  // Wisp masks secret values in logs and errors: this line reads "key [redacted]".
  console.log(`notified ${to} (key ${ctx.env.API_KEY})`);
  return { notified: to, key: ctx.invocationId };
}
