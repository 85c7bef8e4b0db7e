// Errors Node's HTTP parser raises before a request reaches Fastify (headers too large, a client
// too slow to send its request, bytes that are not HTTP), answered as problem details like all others.
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

/** Fastify's clientErrorHandler: writes one problem document and closes the connection. */
export function answerClientError(err: NodeJS.ErrnoException, socket: Socket): void {
  // Reset by the peer, or already gone: nobody to answer.
  if (err.code === 'ECONNRESET' || socket.destroyed) return;
  const { code, detail } = classify(err);
  const problem = new WispError(code, detail);
  const body = JSON.stringify(problemDocument(problem));
  if (socket.writable) {
    socket.write(`HTTP/1.1 ${problem.status} ${problem.title}\r\nContent-Type: ${PROBLEM_TYPE}\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
  }
  socket.destroy();
}
