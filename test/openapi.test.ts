// openapi.yaml is the contract: every registered route must be in it, and every error code.
import t from 'tap';
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { catalogue } from '../dist/errors.js';
import { OPENAPI_FILE } from '../dist/gateway/docs-routes.js';
import { contractViolations } from './helpers/contract.js';
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

/** Every operation in the document, with what it needs to list. */
function operations(): { where: string; path: string; method: string; op: Record<string, any>; item: Record<string, any> }[] {
  const found = [];
  for (const [path, item] of Object.entries(spec.paths)) {
    for (const method of ['get', 'put', 'post', 'patch', 'delete', 'head', 'options']) {
      const op = item[method] as Record<string, any> | undefined;
      if (op) found.push({ where: `${method} ${path}`, path, method, op, item: item as Record<string, any> });
    }
  }
  return found;
}

t.test('every $ref in openapi.yaml points at something defined', async (t) => {
  const refs = new Set<string>();
  const walk = (node: unknown): void => {
    if (Array.isArray(node)) node.forEach(walk);
    else if (node && typeof node === 'object') {
      for (const [key, value] of Object.entries(node)) {
        if (key === '$ref' && typeof value === 'string') refs.add(value);
        else walk(value);
      }
    }
  };
  walk(spec);
  t.ok(refs.size > 20, 'references were found');
  for (const ref of refs) {
    const target = ref
      .slice(2)
      .split('/')
      .reduce<unknown>((node, key) => (node as Record<string, unknown> | undefined)?.[key.replaceAll('~1', '/')], spec);
    t.ok(target, `${ref} is defined`);
  }
});

t.test('every operation lists the statuses any request to it can get', async (t) => {
  for (const { where, path, method, op, item } of operations()) {
    if (path.startsWith('/docs')) continue;
    const listed = new Set(Object.keys(op.responses));
    const secured = op.security === undefined || (op.security as object[]).some((s) => Object.keys(s).length > 0);
    const params = [...(item.parameters ?? []), ...(op.parameters ?? [])] as { $ref?: string; in?: string }[];
    const hasPathParams = params.some((p) => p.in === 'path' || /Name|InstanceId|TriggerId|InvocationId/.test(p.$ref ?? ''));
    const want = ['429', '503'];
    if (secured) want.push('401', '403');
    if (hasPathParams) want.push('400', '414');
    if (['post', 'put', 'patch', 'delete'].includes(method)) want.push('400', '413', '415');
    for (const status of want) t.ok(listed.has(status), `${where} lists ${status}`);
  }
});

t.test('the response contract check finds what breaks openapi.yaml', async (t) => {
  const ok = { method: 'GET', path: '/v1/functions', status: 200, contentType: 'application/json', body: '{"functions":[]}' };
  t.same(contractViolations(ok), []);
  t.match(contractViolations({ ...ok, status: 418 }), [/status 418 is not listed/]);
  t.match(contractViolations({ ...ok, contentType: 'text/html' }), [/Content-Type text\/html is not one of application\/json/]);
  t.match(contractViolations({ ...ok, body: '{"functions":[{"name":1}]}' }), [/body\/functions\/0/]);
  t.match(contractViolations({ ...ok, body: '{"functions":' }), [/not JSON/]);
  t.match(contractViolations({ ...ok, method: 'PATCH', status: 200 }), [/no operation in openapi.yaml for PATCH/]);
  t.same(contractViolations({ ...ok, method: 'HEAD', body: '' }), [], 'HEAD is answered like GET, without a body');
  const problem = { type: 'urn:wisp:problem:method-not-allowed', title: 'x', status: 405, detail: 'x', code: 'METHOD_NOT_ALLOWED' };
  t.same(contractViolations({ ...ok, method: 'PATCH', status: 405, contentType: 'application/problem+json', body: JSON.stringify(problem) }), []);
  t.match(contractViolations({ ...ok, method: 'PATCH', status: 405, contentType: 'application/problem+json', body: '{"code":"NOPE"}' }), [/required property/]);
});
