// The error catalogue: every error Wisp answers with has a stable code here, an HTTP status and
// a title. The gateway turns a WispError into RFC 9457 problem details; test/errors.test.ts checks
// that every code is listed in openapi.yaml.

/** `user`: the caller or their code did something wrong. `system`: Wisp failed. */
type Origin = 'user' | 'system';

interface CatalogueEntry {
  readonly status: number;
  readonly title: string;
  readonly origin: Origin;
}

export const catalogue = {
  INVALID_REQUEST: { status: 400, title: 'The request is not valid', origin: 'user' },
  INVALID_JSON: { status: 400, title: 'The request body is not valid JSON', origin: 'user' },
  INVALID_NAME: { status: 400, title: 'The function name is not valid', origin: 'user' },
  EMPTY_UPLOAD: { status: 400, title: 'The upload is empty', origin: 'user' },
  INVALID_ARCHIVE: { status: 400, title: 'The archive cannot be read', origin: 'user' },
  INVALID_FUNCTION: { status: 400, title: 'The function module cannot be loaded', origin: 'user' },
  INVALID_CONFIG: { status: 400, title: 'The function configuration is not valid', origin: 'user' },
  NO_JSON_HANDLER: { status: 400, title: 'The function has no JSON handler', origin: 'user' },
  FUNCTION_NOT_FOUND: { status: 404, title: 'No such function', origin: 'user' },
  VERSION_NOT_FOUND: { status: 404, title: 'No such function version', origin: 'user' },
  ROUTE_NOT_FOUND: { status: 404, title: 'No such route', origin: 'user' },
  METHOD_NOT_ALLOWED: { status: 405, title: 'The route does not take that method', origin: 'user' },
  PAYLOAD_TOO_LARGE: { status: 413, title: 'The request body is too large', origin: 'user' },
  UNSUPPORTED_MEDIA_TYPE: { status: 415, title: 'The content type is not supported', origin: 'user' },
  CONCURRENCY_LIMIT: { status: 429, title: 'The function is at its concurrency limit', origin: 'user' },
  FUNCTION_ERROR: { status: 500, title: 'The function threw an error', origin: 'user' },
  FUNCTION_CRASHED: { status: 500, title: 'The function crashed its worker', origin: 'user' },
  HOST_CRASHED: { status: 500, title: 'The invocation was running each time Wisp itself died', origin: 'user' },
  INTERNAL_ERROR: { status: 500, title: 'Internal error', origin: 'system' },
  RESULT_TOO_LARGE: { status: 502, title: 'The function result is too large', origin: 'user' },
  SERVER_BUSY: { status: 503, title: 'Wisp is at capacity', origin: 'system' },
  FUNCTION_TIMEOUT: { status: 504, title: 'The function ran past its timeout', origin: 'user' },
  CLASS_NOT_FOUND: { status: 404, title: 'The function exports no such class', origin: 'user' },
  INSTANCE_NOT_FOUND: { status: 404, title: 'No such instance', origin: 'user' },
  METHOD_NOT_FOUND: { status: 404, title: 'The instance has no such method', origin: 'user' },
  INSTANCE_SUSPENDED: { status: 409, title: 'The instance is suspended', origin: 'user' },
  INSTANCE_NOT_SUSPENDED: { status: 409, title: 'The instance is not suspended', origin: 'user' },
  CALL_CYCLE: { status: 409, title: 'The call would wait on itself', origin: 'user' },
  INSTANCE_INIT_FAILED: { status: 422, title: 'The instance constructor failed', origin: 'user' },
  CHECKPOINT_FAILED: { status: 422, title: 'The instance state cannot be checkpointed', origin: 'user' },
  METHOD_ERROR: { status: 500, title: 'The method threw an error', origin: 'user' },
  INSTANCE_CRASHED: { status: 500, title: 'The instance crashed its worker', origin: 'user' },
  INSTANCE_UNAVAILABLE: { status: 503, title: 'The instance is not running', origin: 'user' },
  INSUFFICIENT_RESOURCES: { status: 503, title: 'The node lacks the resources asked for', origin: 'system' },
  METHOD_TIMEOUT: { status: 504, title: 'The method ran past its timeout', origin: 'user' },
  NO_SOCKET_HANDLER: { status: 400, title: 'The instance takes no WebSockets', origin: 'user' },
  FOREIGN_ORIGIN: { status: 403, title: 'The WebSocket was opened by a page from another origin', origin: 'user' },
  UPGRADE_REQUIRED: { status: 426, title: 'The route takes a WebSocket upgrade', origin: 'user' },
  INSTANCE_IN_GROUP: { status: 409, title: 'The instance belongs to a group', origin: 'user' },
  STALE_OWNER: { status: 409, title: 'Another node owns the instance now', origin: 'system' },
  NOT_OWNER: { status: 409, title: 'The node asked does not own the instance', origin: 'system' },
  NODE_FENCED: { status: 503, title: 'The node lost its cluster lease', origin: 'system' },
  GROUP_NOT_FOUND: { status: 404, title: 'No such group', origin: 'user' },
  GROUP_EXISTS: { status: 409, title: 'A group with this name exists', origin: 'user' },
  GROUP_CREATE_FAILED: { status: 409, title: 'The group could not be created', origin: 'user' },
  GROUP_NOT_RUNNING: { status: 409, title: 'The group is not running', origin: 'user' },
  GROUP_NOT_SUSPENDED: { status: 409, title: 'The group is not suspended', origin: 'user' },
  INVOCATION_NOT_FOUND: { status: 404, title: 'No such invocation', origin: 'user' },
  INVOCATION_FINISHED: { status: 409, title: 'The invocation has already finished', origin: 'user' },
  INVOCATION_NOT_FINISHED: { status: 409, title: 'The invocation has not finished', origin: 'user' },
  INVOCATION_CANCELLED: { status: 409, title: 'The invocation was cancelled', origin: 'user' },
  INVOCATION_PENDING: { status: 409, title: 'An equal invocation is pending', origin: 'user' },
  BATCH_NOT_FOUND: { status: 404, title: 'No such batch', origin: 'user' },
  BATCH_TOO_LARGE: { status: 413, title: 'The batch has too many inputs', origin: 'user' },
  IDEMPOTENCY_KEY_REUSED: { status: 422, title: 'The idempotency key was used with a different request', origin: 'user' },
  EVENT_AGE_EXCEEDED: { status: 410, title: 'The invocation waited past its maximum age', origin: 'user' },
  NESTING_TOO_DEEP: { status: 508, title: 'Nested calls go too deep', origin: 'user' },
  TRIGGER_NOT_FOUND: { status: 404, title: 'No such trigger', origin: 'user' },
  INVALID_SIGNATURE: { status: 401, title: 'The webhook signature is not valid', origin: 'user' },
  TOKEN_REQUIRED: { status: 401, title: 'A bearer token is required', origin: 'user' },
  CLUSTER_AUTH_FAILED: { status: 401, title: 'The request is not signed by a node of the cluster', origin: 'user' },
  INVALID_TOKEN: { status: 401, title: 'The bearer token is not valid', origin: 'user' },
  INSUFFICIENT_SCOPE: { status: 403, title: "The token's scope does not allow this", origin: 'user' },
  INVALID_ENV: { status: 400, title: 'The env values are not valid', origin: 'user' },
  ENV_NOT_FOUND: { status: 404, title: 'No such env value', origin: 'user' },
  UPLOAD_TOO_LARGE: { status: 413, title: 'The upload is too large', origin: 'user' },
  PATH_TOO_LONG: { status: 414, title: 'A segment of the URL path is too long', origin: 'user' },
  HEADERS_TOO_LARGE: { status: 431, title: 'The request headers are too large', origin: 'user' },
  REQUEST_TIMEOUT: { status: 408, title: 'The request was not received in time', origin: 'user' },
  RATE_LIMITED: { status: 429, title: 'Too many requests', origin: 'user' },
  OVERLOADED: { status: 503, title: 'Wisp is overloaded', origin: 'system' },
  SHUTTING_DOWN: { status: 503, title: 'Wisp is shutting down', origin: 'system' },
  STORE_UNAVAILABLE: { status: 503, title: 'The store cannot be reached', origin: 'system' },
} as const satisfies Record<string, CatalogueEntry>;

export type ErrorCode = keyof typeof catalogue;

export class WispError extends Error {
  override name = 'WispError';
  readonly code: ErrorCode;
  readonly status: number;
  /** Extra members of the problem document (RFC 9457 extensions), e.g. line and column. */
  readonly extensions: Readonly<Record<string, unknown>>;

  constructor(code: ErrorCode, detail: string, extensions: Record<string, unknown> = {}, options?: ErrorOptions) {
    super(detail, options);
    this.code = code;
    this.status = catalogue[code].status;
    this.extensions = extensions;
  }

  get title(): string {
    return catalogue[this.code].title;
  }
}

/** How an error crosses a thread boundary: plain data, rebuilt on the other side (design §6.3). */
export interface SerializedError {
  code?: string;
  name: string;
  message: string;
  stack?: string;
  /** False when the code that threw said a retry would not help (`err.retriable = false`). */
  retriable?: false;
}

/** Whether user code marked an error as not worth retrying; both spellings are accepted. */
function markedNotRetriable(err: Error): boolean {
  const e = err as { retriable?: unknown; retryable?: unknown };
  return e.retriable === false || e.retryable === false;
}

/**
 * What an error from user code may carry across a thread: a message and a stack beyond these are
 * cut (and say so). An error message of 50 MB copied whole to the gateway, and kept in its call
 * history, is how ordinary error traffic used to exhaust the gateway's heap.
 */
export const ERROR_LIMITS = { nameChars: 200, messageChars: 16_384, stackChars: 32_768 } as const;

/** `text` cut to `max` characters, saying how much was left out. Its length is read first: O(1). */
export function cutText(text: string, max: number): string {
  if (text.length <= max) return text;
  return `${text.slice(0, max)}… [${text.length - max} more characters cut]`;
}

/**
 * The stack frames of `err` without its message: V8 formats a stack lazily, on first read, with
 * Error.prepareStackTrace, so the frames of an error with a huge message can be had without the
 * huge "Name: message" text that err.stack would start with.
 */
function framesOnly(err: Error): string | undefined {
  const prepare = Error.prepareStackTrace;
  Error.prepareStackTrace = (_error, sites) => sites.map((site) => `\n    at ${String(site)}`).join('');
  try {
    const stack: unknown = err.stack;
    return typeof stack === 'string' ? stack : undefined;
  } finally {
    Error.prepareStackTrace = prepare;
  }
}

function boundedStack(err: Error, name: string, message: string): string | undefined {
  if (String(err.message).length <= ERROR_LIMITS.messageChars) {
    const stack: unknown = err.stack;
    return typeof stack === 'string' && stack ? cutText(stack, ERROR_LIMITS.stackChars) : undefined;
  }
  const frames = framesOnly(err);
  if (frames === undefined) return undefined;
  // A stack read before (with its message) is kept as text: cut it like any other.
  if (!frames.startsWith('\n    at ')) return cutText(frames, ERROR_LIMITS.stackChars);
  return cutText(`${name}: ${message}${frames}`, ERROR_LIMITS.stackChars);
}

export function serializeError(err: unknown): SerializedError {
  if (err instanceof Error) {
    const code = (err as { code?: unknown }).code;
    const name = cutText(String(err.name), ERROR_LIMITS.nameChars);
    const message = cutText(String(err.message), ERROR_LIMITS.messageChars);
    const stack = boundedStack(err, name, message);
    return {
      name,
      message,
      ...(typeof code === 'string' ? { code: cutText(code, ERROR_LIMITS.nameChars) } : {}),
      ...(stack ? { stack } : {}),
      ...(markedNotRetriable(err) ? { retriable: false as const } : {}),
    };
  }
  // A thrown string is measured before it is copied; anything else is made a string first.
  let text: string;
  try {
    text = typeof err === 'string' ? err : String(err);
  } catch {
    text = `a ${typeof err} that cannot be printed`;
  }
  return { name: 'Error', message: `non-error value thrown: ${cutText(text, ERROR_LIMITS.messageChars)}` };
}

/** Rebuilds an error serialized in another thread, keeping its name, code and stack. */
export function deserializeError(data: SerializedError): Error {
  const err = new Error(data.message) as Error & { code?: string };
  err.name = data.name;
  if (data.code) err.code = data.code;
  if (data.stack) err.stack = data.stack;
  return err;
}
