// The gate every request passes first: checked for a bearer token whose scope covers the route
// (auth/route-access.ts). With no tokens configured Wisp listens on loopback only (config.ts)
// and no hook is installed at all: an empty hook still costs every call on the hot path.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { routeAccess, type RouteAccess } from '../auth/route-access.js';
import { scopeCovers, type Scope, type TokenEntry, type TokenTable } from '../auth/tokens.js';
import { WispError } from '../errors.js';
import { sendProblem } from './problem.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    access?: RouteAccess;
  }
  interface FastifyRequest {
    /** The token the request was let in with, if it showed one. */
    wispToken?: TokenEntry;
  }
}

export interface AccessGateOptions {
  tokens: TokenTable;
  metricsOpen: boolean;
  /** Whether /fn/{name} of this function answers without a token. */
  isPublicFunction: (name: string) => boolean;
}

const REALM = 'Bearer realm="wisp"';

export function installAccessGate(app: FastifyInstance, options: AccessGateOptions): void {
  app.addHook('onRoute', (route) => {
    for (const method of [route.method].flat()) {
      const access = routeAccess(method, route.url);
      if (!access) throw new Error(`route ${method} ${route.url} has no access rule in auth/route-access.ts`);
      route.config = { ...route.config, access };
    }
  });
  if (!options.tokens.enabled) return;
  app.addHook('onRequest', (request, reply, done) => {
    const refusal = check(request, options);
    if (refusal) {
      reply.header('www-authenticate', refusal.challenge);
      sendProblem(reply, request, refusal.error);
      return;
    }
    done();
  });
}

function neededScope(request: FastifyRequest, options: AccessGateOptions): Scope | null {
  const access = request.routeOptions.config.access;
  // Unknown routes: the 404 answer gives nothing away.
  if (!access || access.kind === 'open') return null;
  if (access.kind === 'scope') return access.scope;
  if (access.kind === 'metrics') return options.metricsOpen ? null : 'invoke';
  return options.isPublicFunction((request.params as { name: string }).name) ? null : 'invoke';
}

function bearerToken(request: FastifyRequest): string | undefined {
  const header = request.headers.authorization;
  // A browser cannot set headers on a WebSocket: an upgrade may carry the token as ?token=.
  if (!header) return isUpgrade(request) ? tokenInQuery(request) : undefined;
  const match = /^Bearer[ ]+(\S+)\s*$/i.exec(header);
  return match ? match[1] : '';
}

/** Read from the header: the WebSocket plugin marks its requests in a hook that may run after this one. */
const isUpgrade = (request: FastifyRequest) => request.headers.upgrade?.toLowerCase() === 'websocket';

function tokenInQuery(request: FastifyRequest): string | undefined {
  const token = (request.query as { token?: unknown } | undefined)?.token;
  return typeof token === 'string' ? token : undefined;
}

function check(request: FastifyRequest, options: AccessGateOptions): { error: WispError; challenge: string } | null {
  const needed = neededScope(request, options);
  const presented = bearerToken(request);
  const token = presented ? options.tokens.find(presented) : undefined;
  if (token) request.wispToken = token;
  if (needed === null) return null;
  if (presented === undefined) {
    return { error: new WispError('TOKEN_REQUIRED', `this route needs a bearer token with scope ${needed}: send Authorization: Bearer <token>${isUpgrade(request) ? ' (or, on a WebSocket, ?token=<token>)' : ''}`), challenge: REALM };
  }
  if (!token) {
    const why = presented === '' ? 'the Authorization header must be "Bearer <token>"' : 'the bearer token is not one Wisp accepts';
    return { error: new WispError('INVALID_TOKEN', why), challenge: `${REALM}, error="invalid_token"` };
  }
  if (!scopeCovers(token.scope, needed)) {
    return {
      error: new WispError('INSUFFICIENT_SCOPE', `this route needs scope ${needed} (or wider); token "${token.name}" has scope ${token.scope}`),
      challenge: `${REALM}, error="insufficient_scope", scope="${needed}"`,
    };
  }
  return null;
}
