// openapi.yaml is the contract: every registered route must be in it, and every error code.
import t from 'tap';
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { catalogue } from '../dist/errors.js';
import { OPENAPI_FILE } from '../dist/gateway/docs-routes.js';
import { startWisp } from './helpers/wisp.js';

interface PathItem {
  [method: string]: unknown;
  'x-methods'?: string[];
}
const spec = parse(readFileSync(OPENAPI_FILE, 'utf8')) as {
  paths: Record<string, PathItem>;
  components: { schemas: { ErrorCode: { enum: string[] } } };
};

/** Fastify's `/a/:name/*` written the OpenAPI way: `/a/{name}/{path}`. */
const toOpenApiPath = (url: string): string => url.replace(/:(\w+)/g, '{$1}').replace(/\*$/, '{path}');

t.test('every registered route is documented in openapi.yaml', async (t) => {
  const app = await startWisp(t);
  await app.ready();
  t.ok(app.wispRoutes.length > 10, 'routes were recorded');
  for (const { method, url } of app.wispRoutes) {
    // The docs page's own asset files belong to Swagger UI, not to the API.
    if (url.startsWith('/docs/static/')) continue;
    const item = spec.paths[toOpenApiPath(url)];
    if (!item) {
      t.fail(`${method} ${url} is not in openapi.yaml`);
      continue;
    }
    const documented =
      method.toLowerCase() in item ||
      (item['x-methods'] ?? []).includes(method) ||
      // Fastify answers HEAD wherever there is a GET.
      (method === 'HEAD' && 'get' in item);
    t.ok(documented, `${method} ${url} is documented`);
  }
});

t.test('every documented path is a registered route', async (t) => {
  const app = await startWisp(t);
  await app.ready();
  const registered = new Set(app.wispRoutes.map((r) => toOpenApiPath(r.url)));
  for (const path of Object.keys(spec.paths)) t.ok(registered.has(path), `${path} is served`);
});

t.test('the error codes in openapi.yaml are exactly the catalogue', async (t) => {
  t.same([...spec.components.schemas.ErrorCode.enum].sort(), Object.keys(catalogue).sort());
});

t.test('GET /docs serves the API reference built from openapi.yaml', async (t) => {
  const app = await startWisp(t);
  const page = await app.inject('/docs');
  t.equal(page.statusCode, 200);
  t.match(page.headers['content-type'], /text\/html/);
  const json = await app.inject('/docs/json');
  t.equal(json.statusCode, 200);
  t.equal(json.json().info.title, 'Wisp');
  t.ok(json.json().paths['/v1/functions/{name}/invoke'], 'the invoke route is in the served document');
});
