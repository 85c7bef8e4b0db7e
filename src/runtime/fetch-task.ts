// The fetch-handler path of a pool task: a standard Request in, the function's Response read back
// within the result limit.
import type { LoadedModule } from './module-loader.js';
import type { Outcome, WireRequest, WireResponse } from './protocol.js';
import { fail } from './task-outcome.js';

type FetchHandler = { fetch(request: Request, ctx: unknown): unknown };

function toRequest(wire: WireRequest): Request {
  const hasBody = wire.body !== null && wire.method !== 'GET' && wire.method !== 'HEAD';
  return new Request(wire.url, { method: wire.method, headers: wire.headers, ...(hasBody ? { body: wire.body } : {}) });
}

/**
 * The response body, read as a stream and given up as soon as it passes `limitBytes`: a fetch
 * handler may return a body of any size (a 1.5 GB one was once buffered whole).
 */
async function readBounded(response: Response, limitBytes: number): Promise<Uint8Array> {
  if (!response.body) return new Uint8Array(0);
  const declared = Number(response.headers.get('content-length'));
  if (declared > limitBytes) throw bodyTooLarge(`body declares ${declared} bytes, over the limit`, limitBytes);
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limitBytes) {
      void reader.cancel().catch(() => {});
      throw bodyTooLarge('body is larger than the limit', limitBytes);
    }
    chunks.push(value);
  }
  return chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size);
}

function bodyTooLarge(what: string, limitBytes: number): Error {
  return Object.assign(new RangeError(`the response ${what} (${limitBytes} bytes; limits.resultBytes)`), { code: 'RESULT_TOO_LARGE' });
}

async function toWire(response: Response, limitBytes: number): Promise<WireResponse> {
  const headers: [string, string][] = [];
  let headerBytes = 0;
  response.headers.forEach((value, name) => {
    headerBytes += name.length + value.length;
    if (name !== 'set-cookie') headers.push([name, value]);
  });
  for (const cookie of response.headers.getSetCookie()) headers.push(['set-cookie', cookie]);
  if (headerBytes > limitBytes) throw bodyTooLarge(`headers are ${headerBytes} bytes, over the limit`, limitBytes);
  const body = await readBounded(response, limitBytes);
  return { status: response.status, statusText: response.statusText, headers, body };
}

export async function runFetch(loaded: LoadedModule, wire: WireRequest, ctx: unknown, limitBytes: number): Promise<Outcome<WireResponse>> {
  let response: unknown;
  try {
    response = await (loaded.exports.default as FetchHandler).fetch(toRequest(wire), ctx);
  } catch (err) {
    return fail('handler', err, loaded);
  }
  if (!(response instanceof Response)) {
    return fail('result', new TypeError(`fetch() must return a Response, got ${response === null ? 'null' : typeof response}`));
  }
  try {
    return { ok: true, value: await toWire(response, limitBytes) };
  } catch (err) {
    return fail('result', err);
  }
}
