// The response contract: every response a test receives is held to openapi.yaml for its
// operation: the status is listed, the Content-Type is one the operation declares, and the body
// validates against that schema. startWisp() wraps app.inject with it and the process helpers
// run it on what they fetch, so the whole suite checks the contract as a side effect of
// checking behaviour, and a route cannot drift from the document without a test failing.
//
// Why here and not a response-validation hook inside the server: a hook would change the code
// under test (it runs in the reply path, and only where tests turn it on), while checking at the
// point a test receives the answer sees exactly the bytes a client sees, for in-process and
// child-process servers alike, and costs the server nothing.
import { readFileSync } from 'node:fs';
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import FindMyWay from 'find-my-way';
import { parse } from 'yaml';
import { OPENAPI_FILE } from '../../dist/gateway/docs-routes.js';

type Schema = Record<string, unknown>;
interface Response {
  $ref?: string;
  content?: Record<string, { schema?: Schema }>;
}
interface Operation {
  responses: Record<string, Response>;
}

export interface Answer {
  method: string;
  /** The request path, without the query string. */
  path: string;
  status: number;
  contentType: string | undefined;
  body: string;
}

const DOCUMENT_ID = 'wisp-openapi';
const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace', 'query'];

export const spec = parse(readFileSync(OPENAPI_FILE, 'utf8')) as {
  paths: Record<string, Record<string, unknown>>;
  components: { responses: Record<string, Response> };
};

// OpenAPI 3.1 schemas are JSON Schema 2020-12. The document is added whole so that the
// '#/components/...' references inside its schemas resolve against it.
const ajv = new Ajv2020({ strict: false, allErrors: true });
(addFormats as unknown as (a: unknown) => void)(ajv);
ajv.addSchema({ ...spec, $id: DOCUMENT_ID });

const pointer = (...parts: string[]) => parts.map((p) => p.replaceAll('~', '~0').replaceAll('/', '~1')).join('/');

/** `/v1/functions/{name}` as a router pattern, to find the operation of a concrete path. */
const router = FindMyWay({ ignoreTrailingSlash: true, maxParamLength: 10_000 });
for (const path of Object.keys(spec.paths)) {
  const pattern = path.replace(/\{path\}$/, '*').replace(/\{(\w+)\}/g, ':$1');
  router.on('GET', pattern, () => undefined, { path });
}

const validators = new Map<string, ValidateFunction>();
function validatorFor(ref: string): ValidateFunction {
  let validate = validators.get(ref);
  if (!validate) {
    validate = ajv.compile({ $ref: `${DOCUMENT_ID}#${ref}` });
    validators.set(ref, validate);
  }
  return validate;
}

function resolveResponse(response: Response, at: string): { response: Response; at: string } {
  if (!response.$ref) return { response, at };
  const name = response.$ref.replace('#/components/responses/', '');
  return { response: spec.components.responses[name]!, at: `/${pointer('components', 'responses', name)}` };
}

/**
 * What a request no operation owns may be answered with, always as a Problem document: no
 * route (404), not that method (405), and what fails before routing (a URL that does not decode,
 * an overlong segment, a body that cannot be read).
 */
const UNROUTED = new Set([400, 404, 405, 413, 414, 415]);

/** `/a/./b` and `/a/x/../b` as the server's router sees them. */
const normalized = (path: string) => new URL(path, 'http://wisp').pathname;

/** The operation answering `method` on `item`: HEAD is the GET (Fastify answers HEAD for every GET), x-methods share one. */
function operationOf(item: Record<string, unknown>, method: string): Operation | undefined {
  const key = method.toLowerCase();
  if (METHODS.includes(key) && item[key]) return item[key] as Operation;
  if (key === 'head' && item.get) return item.get as Operation;
  if ((item['x-methods'] as string[] | undefined)?.includes(method)) return item.post as Operation;
  return undefined;
}

/** What is wrong with `answer` against openapi.yaml, or an empty list. */
export function contractViolations(answer: Answer): string[] {
  const { method, status } = answer;
  const path = normalized(answer.path);
  const what = `${method} ${path} → ${status}`;
  const found = router.find('GET', path);
  const documentedPath = (found?.store as { path: string } | undefined)?.path;
  const item = documentedPath ? spec.paths[documentedPath] : undefined;
  const operation = item ? operationOf(item, method) : undefined;
  if (!operation) {
    if (!UNROUTED.has(status)) return [`${what}: no operation in openapi.yaml for ${method} ${documentedPath ?? path}`];
    return problemViolations(answer, what);
  }
  const listed = operation.responses[String(status)] ?? operation.responses[`${String(status)[0]}XX`] ?? operation.responses.default;
  if (!listed) return [`${what}: status ${status} is not listed for ${method.toLowerCase()} ${documentedPath} in openapi.yaml`];
  const key = operation.responses[String(status)] ? String(status) : operation.responses[`${String(status)[0]}XX`] ? `${String(status)[0]}XX` : 'default';
  const { response, at } = resolveResponse(listed, `/${pointer('paths', documentedPath!, method.toLowerCase(), 'responses', key)}`);
  return bodyViolations(answer, what, response, at);
}

function problemViolations(answer: Answer, what: string): string[] {
  const { response, at } = resolveResponse({ $ref: '#/components/responses/Problem' }, '');
  return bodyViolations(answer, what, response, at);
}

function bodyViolations(answer: Answer, what: string, response: Response, at: string): string[] {
  const content = response.content;
  const type = (answer.contentType ?? '').split(';')[0]!.trim().toLowerCase();
  if (answer.method === 'HEAD') return [];
  if (!content) return answer.body.length > 0 ? [`${what}: has a body, but openapi.yaml declares no content for it`] : [];
  const declared = Object.keys(content);
  const match = declared.find((d) => d === type) ?? declared.find((d) => d.endsWith('/*') && type.startsWith(d.slice(0, -1))) ?? declared.find((d) => d === '*/*');
  if (!match) return [`${what}: Content-Type ${type || '(none)'} is not one of ${declared.join(', ')}`];
  const schema = content[match]!.schema;
  if (!schema || !/json$/.test(type)) return [];
  let body: unknown;
  try {
    body = JSON.parse(answer.body);
  } catch {
    return [`${what}: the body is not JSON though it is sent as ${type}`];
  }
  const validate = validatorFor(`${at}/${pointer('content', match, 'schema')}`);
  if (validate(body)) return [];
  return (validate.errors ?? []).map((e) => `${what}: body${e.instancePath} ${e.message} ${JSON.stringify(e.params)} (${answer.body.slice(0, 200)})`);
}
