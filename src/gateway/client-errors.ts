// Errors Node's HTTP parser raises before a request reaches Fastify (headers too large, a client
// too slow to send its request, bytes that are not HTTP), answered as problem details like all others.
import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import { WispError, type ErrorCode } from '../errors.js';
import { PROBLEM_TYPE, problemDocument } from './problem.js';

function classify(err: NodeJS.ErrnoException): { code: ErrorCode; detail: string } {
  if (err.code === 'HPE_HEADER_OVERFLOW') {
    return { code: 'HEADERS_TOO_LARGE', detail: 'the request headers are larger than limits.headerBytes allows; send fewer or shorter headers' };
  }
  if (err.code === 'ERR_HTTP_REQUEST_TIMEOUT') {
    return { code: 'REQUEST_TIMEOUT', detail: 'the request was not received in time (limits.headersTimeoutMs for the headers, limits.requestTimeoutMs for all of it)' };
  }
  return { code: 'INVALID_REQUEST', detail: `the request is not valid HTTP/1.1 (${err.code ?? 'parse error'})` };
}

/** Writes one problem document straight to the socket and closes the connection. */
function answerOnSocket(socket: Socket, problem: WispError, headers = ''): void {
  const body = JSON.stringify(problemDocument(problem));
  if (socket.writable) {
    socket.write(
      `HTTP/1.1 ${problem.status} ${problem.title}\r\nContent-Type: ${PROBLEM_TYPE}\r\nContent-Length: ${Buffer.byteLength(body)}\r\n${headers}Connection: close\r\n\r\n${body}`,
    );
  }
  socket.destroy();
}

/** Fastify's clientErrorHandler. */
export function answerClientError(err: NodeJS.ErrnoException, socket: Socket): void {
  // Reset by the peer, or already gone: nobody to answer.
  if (err.code === 'ECONNRESET' || socket.destroyed) return;
  const { code, detail } = classify(err);
  answerOnSocket(socket, new WispError(code, detail));
}

/**
 * Node hands CONNECT (a proxy tunnel) to the server's 'connect' event, never to Fastify, and
 * drops the connection when nobody listens: Wisp is not a proxy, and says so.
 */
export function refuseConnect(request: IncomingMessage, socket: Socket): void {
  const path = request.url ?? '';
  answerOnSocket(socket, new WispError('METHOD_NOT_ALLOWED', `Wisp is not a proxy: CONNECT ${path} is not taken; see /docs for the routes`), 'Allow: GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS\r\n');
}
