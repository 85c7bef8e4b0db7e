// Starts a Wisp app for one test, on its own temp data dir, closed when the test ends.
import type { Test } from 'tap';
import type { FastifyInstance, InjectOptions, LightMyRequestResponse } from 'fastify';
import { appendFileSync, readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { buildApp, type AppOptions } from '../../dist/app.js';
import { loadConfig, type ConfigOverrides } from '../../dist/config.js';
import { contractViolations, type Answer } from './contract.js';
import { redisSelection } from './redis-selection.js';
import { tempDir } from './temp-dir.js';

export type App = FastifyInstance;

export async function startWisp(t: Test, overrides: ConfigOverrides = {}, dataDir = tempDir(), options: AppOptions = {}): Promise<App> {
  const config = loadConfig({
    env: {},
    overrides: {
      logLevel: (process.env.WISP_TEST_LOG ?? 'silent') as 'silent',
      ...redisSelection(dataDir),
      ...overrides,
      dataDir,
      pool: { minThreads: 0, ...overrides.pool },
      // Apps in one test process do not listen: hostname-port would name them all alike.
      cluster: { nodeId: `test-${basename(dataDir)}`.replace(/[^A-Za-z0-9._-]/g, '-').slice(0, 60), ...overrides.cluster },
    },
  });
  const app = await buildApp(config, options);
  t.teardown(() => app.close());
  holdToContract(t, app);
  return app;
}

/** Every response a test gets from app.inject is checked against openapi.yaml (contract.ts). */
function holdToContract(t: Test, app: App): void {
  const inject = app.inject.bind(app) as (options?: unknown) => unknown;
  (app as unknown as { inject: unknown }).inject = (options?: InjectOptions | string, callback?: unknown) => {
    // The chained and callback forms are not used by the tests; they pass through unchecked.
    if (options === undefined || callback !== undefined) return (inject as (o?: unknown, c?: unknown) => unknown)(options, callback);
    return (inject(options) as Promise<LightMyRequestResponse>).then((res) => {
      reportViolations(t, answerOf(options, res));
      return res;
    });
  };
}

function answerOf(options: InjectOptions | string, res: LightMyRequestResponse): Answer {
  const request = typeof options === 'string' ? { method: 'GET', url: options } : options;
  const url = typeof request.url === 'string' ? request.url : typeof request.path === 'string' ? request.path : String(request.url ?? request.path ?? '/');
  return {
    method: (request.method ?? 'GET').toUpperCase(),
    path: url.split('?')[0]!,
    status: res.statusCode,
    contentType: res.headers['content-type'] as string | undefined,
    body: res.body,
  };
}

/** Fails `t` with each way `answer` breaks openapi.yaml. */
function reportViolations(t: Test, answer: Answer): void {
  for (const violation of contractViolations(answer)) {
    if (process.env.WISP_CONTRACT_LOG) appendFileSync(process.env.WISP_CONTRACT_LOG, `${violation.slice(0, 400)}\n`);
    t.fail(`response contract (openapi.yaml): ${violation}`);
  }
}

export function fixture(name: string): string {
  return readFileSync(new URL(`../fixtures/${name}`, import.meta.url), 'utf8');
}

export async function deploy(app: App, name: string, source: string | Buffer, contentType = 'application/typescript'): Promise<LightMyRequestResponse> {
  return app.inject({ method: 'PUT', url: `/v1/functions/${name}`, headers: { 'content-type': contentType }, payload: source });
}

/** Deploys and fails the test at once if the deploy did not succeed. */
export async function mustDeploy(t: Test, app: App, name: string, source: string): Promise<Record<string, unknown>> {
  const res = await deploy(app, name, source);
  if (res.statusCode !== 201) t.fail(`deploy ${name} failed: ${res.body}`);
  return res.json();
}

export function invoke(app: App, name: string, input?: unknown, query = ''): Promise<LightMyRequestResponse> {
  return app.inject({
    method: 'POST',
    url: `/v1/functions/${name}/invoke${query}`,
    ...(input === undefined ? {} : { headers: { 'content-type': 'application/json' }, payload: JSON.stringify(input) }),
  });
}

/** Asserts a problem-details response with the given status and code. */
export function assertProblem(t: Test, res: LightMyRequestResponse, status: number, code: string): Record<string, unknown> {
  t.equal(res.statusCode, status, `status ${status} (${res.body.slice(0, 300)})`);
  t.match(res.headers['content-type'], /^application\/problem\+json/);
  const body = res.json();
  t.equal(body.code, code);
  t.equal(body.status, status);
  t.type(body.title, 'string');
  t.type(body.detail, 'string');
  t.type(body.type, 'string');
  return body;
}
