// Takes its time: waits `ms` milliseconds (default 60 s), or less if the call is cancelled or
// reaches its deadline, since it listens to ctx.signal.
//   curl localhost:8080/v1/functions/slow/invocations -d '{"ms":60000}'
//   curl -X DELETE localhost:8080/v1/invocations/ID
export const config = { timeoutMs: 120_000 };

export default async function slow(input: { ms?: number } | null, ctx: { signal: AbortSignal }) {
  const ms = input?.ms ?? 60_000;
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(resolve, ms);
    ctx.signal.addEventListener('abort', () => {
      clearTimeout(timer);
      reject(ctx.signal.reason);
    });
  });
  return { waitedMs: ms };
}
