// Helpers for asynchronous invocations: submit one, read one, wait for it to be final.
import type { Test } from 'tap';
import type { LightMyRequestResponse } from 'fastify';
import { isFinalStatus } from '../../dist/invocations/invocation-record.js';
import type { InvocationStatus } from '../../dist/store/records.js';
import type { App } from './wisp.js';

export interface InvocationBody {
  id: string;
  function: string;
  status: InvocationStatus;
  attempts: number;
  maxAttempts: number;
  result: unknown;
  error: { code: string; message: string; error?: { name: string; message: string } } | null;
  parentId: string | null;
  nextAttemptAt: string | null;
  callback: { url: string; status: string; attempts: number; lastError: string | null } | null;
  [key: string]: unknown;
}

export function submit(app: App, name: string, input?: unknown, headers: Record<string, string> = {}): Promise<LightMyRequestResponse> {
  return app.inject({
    method: 'POST',
    url: `/v1/functions/${name}/invocations`,
    headers: { 'content-type': 'application/json', ...headers },
    ...(input === undefined ? {} : { payload: JSON.stringify(input) }),
  });
}

/** Submits and fails the test at once unless the answer is 202; returns the invocation id. */
export async function mustSubmit(t: Test, app: App, name: string, input?: unknown, headers: Record<string, string> = {}): Promise<string> {
  const res = await submit(app, name, input, headers);
  if (res.statusCode !== 202) t.fail(`submit to ${name} failed: ${res.statusCode} ${res.body}`);
  return res.json().id;
}

export async function getInvocation(app: App, id: string, query = ''): Promise<InvocationBody> {
  const res = await app.inject(`/v1/invocations/${id}${query}`);
  if (res.statusCode !== 200) throw new Error(`GET invocation ${id}: ${res.statusCode} ${res.body}`);
  return res.json();
}


/** Long-polls until the invocation is final (the route's own wait, no sleeps here). */
export async function waitFinal(app: App, id: string): Promise<InvocationBody> {
  for (;;) {
    const invocation = await getInvocation(app, id, '?wait=30');
    if (isFinalStatus(invocation.status)) return invocation;
  }
}

/** Resolves with the invocation once `predicate` holds for it (checked now and at each change). */
export function waitUntil(app: App, id: string, predicate: (invocation: InvocationBody) => boolean): Promise<InvocationBody> {
  return new Promise((resolve, reject) => {
    let settled = false;
    const check = (invocation: InvocationBody) => {
      if (settled || !predicate(invocation)) return;
      settled = true;
      unsubscribe();
      resolve(invocation);
    };
    // Subscribed before the first read, so no change can slip between the two.
    const unsubscribe = app.wisp.invocations.watch(id, (invocation) => check(invocation as unknown as InvocationBody));
    getInvocation(app, id).then(check, (err: unknown) => {
      unsubscribe();
      reject(err);
    });
  });
}

export const waitStatus = (app: App, id: string, status: string): Promise<InvocationBody> => waitUntil(app, id, (i) => i.status === status);
