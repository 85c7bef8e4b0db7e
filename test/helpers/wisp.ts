// Starts a Wisp app for one test, on its own temp data dir, closed when the test ends.
import type { Test } from 'tap';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { readFileSync } from 'node:fs';
import { buildApp, type AppOptions } from '../../dist/app.js';
import { loadConfig, type ConfigOverrides } from '../../dist/config.js';

export type App = FastifyInstance;

export async function startWisp(t: Test, overrides: ConfigOverrides = {}, dataDir = t.testdir(), options: AppOptions = {}): Promise<App> {
  const config = loadConfig({
    env: {},
    overrides: {
      logLevel: 'silent',
      ...overrides,
      dataDir,
      pool: { minThreads: 0, ...overrides.pool },
    },
  });
  const app = await buildApp(config, options);
  t.teardown(() => app.close());
  return app;
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
