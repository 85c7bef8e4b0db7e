// GET /ui: the dashboard, static files from the repository's ui/ folder (plain HTML, CSS and ES
// modules: nothing to build). The files are open, like /docs: what they show comes from the API,
// which asks for a token where Wisp has tokens. Nothing is loaded from outside the machine, and
// the content security policy says so to the browser.
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance } from 'fastify';

/** dist/gateway/ui-routes.js → ui/ at the repository's root. */
export const UI_DIR = fileURLToPath(new URL('../../ui/', import.meta.url));

const POLICY = "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'";

export async function uiRoutes(app: FastifyInstance): Promise<void> {
  await app.register(fastifyStatic, {
    root: UI_DIR,
    prefix: '/ui/',
    index: false,
    // A new Wisp serves new files at once: the browser asks again each time (a 304 when unchanged).
    cacheControl: true,
    maxAge: 0,
    setHeaders: (res) => {
      res.header('content-security-policy', POLICY);
      res.header('x-content-type-options', 'nosniff');
    },
  });
  // The router ignores trailing slashes, so /ui and /ui/ are one route: the page itself. Its files
  // are named relative to ui/, which the page's <base href="/ui/"> makes right from either.
  app.get('/ui', (_request, reply) => reply.sendFile('index.html'));
}
