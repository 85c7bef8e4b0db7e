// A handler that uses ctx: its invocation id, function name, version, attempt, and the
// deadline signal, which it hands to fetch() so a slow upstream cannot outlive the call.
//   curl -X PUT localhost:8080/v1/functions/whoami --data-binary @functions/whoami.ts
//   curl -X POST localhost:8080/v1/functions/whoami/invoke
//   curl localhost:8080/v1/functions/whoami/invoke -d '{"url":"http://127.0.0.1:8080/healthz"}'
interface Context {
  invocationId: string;
  function: string;
  version: number;
  attempt: number;
  signal: AbortSignal;
}

export default async function whoami(input: { url?: string } | null, ctx: Context) {
  const upstream = input?.url ? await (await fetch(input.url, { signal: ctx.signal })).json() : undefined;
  return { invocationId: ctx.invocationId, function: ctx.function, version: ctx.version, attempt: ctx.attempt, upstream };
}
