// Instance helpers: create, call, and read the node's resource accounting.
import type { Test } from 'tap';
import type { LightMyRequestResponse } from 'fastify';
import type { ConfigOverrides } from '../../dist/config.js';
import { type App, fixture, mustDeploy, startWisp } from './wisp.js';

/** Room for many default-sized instances; tests about admission set their own capacity. */
export const roomy: ConfigOverrides = { node: { cpu: 1_000_000, memory: 1_000_000, custom: {} } };

/** A Wisp with the counter fixture deployed as "counter". */
export async function startWithCounter(t: Test, overrides: ConfigOverrides = roomy, dataDir?: string): Promise<App> {
  const app = await startWisp(t, overrides, dataDir);
  await mustDeploy(t, app, 'counter', fixture('counter.ts'));
  return app;
}

export function createInstance(app: App, fn: string, body?: unknown): Promise<LightMyRequestResponse> {
  return app.inject({
    method: 'POST',
    url: `/v1/functions/${fn}/instances`,
    ...(body === undefined ? {} : { headers: { 'content-type': 'application/json' }, payload: JSON.stringify(body) }),
  });
}

/** Creates an instance and fails the test at once if that did not work; returns its id. */
export async function mustCreate(t: Test, app: App, fn: string, body?: unknown): Promise<string> {
  const res = await createInstance(app, fn, body);
  if (res.statusCode !== 201) t.fail(`create ${fn} instance failed: ${res.body}`);
  return res.json().id as string;
}

export function callMethod(app: App, id: string, method: string, args: unknown[] = []): Promise<LightMyRequestResponse> {
  return app.inject({
    method: 'POST',
    url: `/v1/instances/${id}/methods/${method}`,
    headers: { 'content-type': 'application/json' },
    payload: JSON.stringify(args),
  });
}

export async function instanceAction(app: App, id: string, action: 'suspend' | 'resume'): Promise<LightMyRequestResponse> {
  return app.inject({ method: 'POST', url: `/v1/instances/${id}/${action}` });
}

export async function allocated(app: App): Promise<{ cpu: number; memory: number; custom: Record<string, number> }> {
  return (await app.inject({ method: 'GET', url: '/v1/node' })).json().resources.allocated;
}

export async function instanceList(app: App, query = ''): Promise<Record<string, unknown>[]> {
  return (await app.inject({ method: 'GET', url: `/v1/instances${query}` })).json().instances;
}

export function createGroup(app: App, body: unknown): Promise<LightMyRequestResponse> {
  return app.inject({ method: 'POST', url: '/v1/groups', headers: { 'content-type': 'application/json' }, payload: JSON.stringify(body) });
}

/** Creates a group and fails the test at once if that did not work; returns its member ids. */
export async function mustCreateGroup(t: Test, app: App, body: { name: string; instances: unknown[]; policy?: unknown }): Promise<string[]> {
  const res = await createGroup(app, body);
  if (res.statusCode !== 201) t.fail(`create group ${body.name} failed: ${res.body}`);
  return res.json().instances.map((i: { id: string }) => i.id);
}

export async function groupAction(app: App, name: string, action: 'suspend' | 'resume'): Promise<LightMyRequestResponse> {
  return app.inject({ method: 'POST', url: `/v1/groups/${name}/${action}` });
}

/** The instance list and the node's allocation: what a failed group operation must leave as it was. */
export async function nodeState(app: App): Promise<unknown> {
  return { instances: await instanceList(app), allocated: await allocated(app) };
}
