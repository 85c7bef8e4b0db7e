// Who may call each route. Every route registered must match a rule here, or Wisp fails at boot:
// a new route cannot go out open by accident.
import type { Scope } from './tokens.js';

/**
 * `open`: anyone (health, docs, webhooks, which prove themselves by signature).
 * `function`: /fn/{name}, open when the function is deployed with `public: true`, else `invoke`.
 * `metrics`: open when auth.metricsOpen is set, else `invoke`.
 */
export type RouteAccess = { kind: 'open' } | { kind: 'scope'; scope: Scope } | { kind: 'function' } | { kind: 'metrics' };

const open: RouteAccess = { kind: 'open' };
const scope = (needed: Scope): RouteAccess => ({ kind: 'scope', scope: needed });

/** Calls and reading what calls did: what a client of the functions needs. */
const INVOKE_ROUTES = new Set([
  'POST /v1/functions/:name/invoke',
  'POST /v1/functions/:name/invocations',
  'POST /v1/functions/:name/batches',
  'POST /v1/instances/:id/methods/:method',
  'GET /v1/instances/:id/ws',
]);

export function routeAccess(method: string, url: string): RouteAccess | undefined {
  // The dashboard's files are open like the docs: the API they call asks for a token.
  if (url === '/healthz' || url === '/docs' || url.startsWith('/docs/') || url === '/ui' || url.startsWith('/ui/') || url === '/hooks/:id') return open;
  // Signed with the cluster secret instead of a token (gateway/internal-routes.ts checks it).
  if (url.startsWith('/internal/')) return open;
  if (url === '/fn/:name' || url.startsWith('/fn/:name/')) return { kind: 'function' };
  if (url === '/metrics') return { kind: 'metrics' };
  if (url === '/v1/node' || url === '/v1/cluster') return scope('admin');
  const route = `${method === 'HEAD' ? 'GET' : method} ${url}`;
  if (INVOKE_ROUTES.has(route) || url === '/v1/invocations' || url.startsWith('/v1/invocations/') || url.startsWith('/v1/batches/')) return scope('invoke');
  if (url.startsWith('/v1/')) return scope('deploy');
  return undefined;
}
