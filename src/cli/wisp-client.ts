// The HTTP client the `wisp` commands share: WISP_URL (default http://127.0.0.1:8080) with
// WISP_TOKEN as a bearer token. A problem document becomes a CliError with its code and detail;
// a Wisp that cannot be reached becomes one that names the URL and the cause.
import { CliError, EXIT } from './cli-error.js';

export const DEFAULT_URL = 'http://127.0.0.1:8080';

export interface Answer<T = unknown> {
  status: number;
  headers: Headers;
  body: T;
}

export interface RequestOptions {
  body?: unknown;
  /** Sent as is, with this content type, instead of JSON. */
  raw?: { bytes: Uint8Array | string | ReadableStream<Uint8Array>; contentType: string };
  headers?: Record<string, string>;
  signal?: AbortSignal;
}

export class WispClient {
  readonly url: string;
  readonly #token: string | undefined;

  constructor(url = process.env.WISP_URL || DEFAULT_URL, token = process.env.WISP_TOKEN || undefined) {
    this.url = url.replace(/\/+$/, '');
    this.#token = token;
  }

  /** The answer of a 2xx; anything else throws a CliError. */
  async request<T = unknown>(method: string, path: string, options: RequestOptions = {}): Promise<Answer<T>> {
    const response = await this.send(method, path, options);
    const text = await response.text();
    const body = parse(text, response.headers.get('content-type'));
    if (!response.ok) throw problemError(response.status, body);
    return { status: response.status, headers: response.headers, body: body as T };
  }

  /** The raw response (for streams); a failure to reach Wisp throws a CliError. */
  async send(method: string, path: string, options: RequestOptions = {}): Promise<Response> {
    const headers: Record<string, string> = { ...options.headers };
    if (this.#token) headers.authorization = `Bearer ${this.#token}`;
    let body: RequestInit['body'];
    if (options.raw) {
      headers['content-type'] = options.raw.contentType;
      body = options.raw.bytes as RequestInit['body'];
    } else if (options.body !== undefined) {
      headers['content-type'] = 'application/json';
      body = JSON.stringify(options.body);
    }
    try {
      const streamed = body instanceof ReadableStream ? { duplex: 'half' } : {};
      return await fetch(`${this.url}${path}`, { method, headers, body, ...streamed, ...(options.signal ? { signal: options.signal } : {}) } as RequestInit);
    } catch (err) {
      if ((err as Error).name === 'AbortError') throw err;
      throw new CliError('UNREACHABLE', `cannot reach Wisp at ${this.url}: ${causeOf(err)} (set WISP_URL to the Wisp to talk to)`, EXIT.unreachable);
    }
  }

  /** A problem answered with a non-2xx status, as the error it stands for. */
  async failure(response: Response): Promise<CliError> {
    const text = await response.text();
    return problemError(response.status, parse(text, response.headers.get('content-type')));
  }
}

function parse(text: string, contentType: string | null): unknown {
  if (text === '') return null;
  if (contentType && /json/i.test(contentType)) {
    try {
      return JSON.parse(text);
    } catch {
      return text;
    }
  }
  return text;
}

/** A problem document (RFC 9457) as one line: its stable code and what it says to do. */
export function problemError(status: number, body: unknown): CliError {
  if (body && typeof body === 'object' && 'code' in body) {
    const problem = body as { code: string; detail?: string; title?: string };
    return new CliError(problem.code, problem.detail ?? problem.title ?? `HTTP ${status}`);
  }
  return new CliError(`HTTP_${status}`, typeof body === 'string' && body !== '' ? body.slice(0, 500) : `Wisp answered ${status}`);
}

function causeOf(err: unknown): string {
  const cause = (err as { cause?: { code?: string; message?: string } }).cause;
  if (cause?.code) return `${cause.code}${cause.message && !cause.message.includes(cause.code) ? ` (${cause.message})` : ''}`;
  return cause?.message ?? (err as Error).message;
}
