// WebSocket clients for the tests: a real `ws` client whose messages queue up to be awaited in
// order, and the HTTP answer of an upgrade Wisp refused.
import WebSocket from 'ws';
import type { App } from './wisp.js';

/** Makes the in-process Wisp listen on a free loopback port; returns its ws:// base. */
export async function listenForSockets(app: App): Promise<string> {
  await app.listen({ port: 0, host: '127.0.0.1' });
  const address = app.server.address();
  if (!address || typeof address === 'string') throw new Error('no port');
  return `ws://127.0.0.1:${address.port}`;
}

export interface TestSocket {
  ws: WebSocket;
  /** The next frame received: text as a string, binary as a Buffer. */
  next(): Promise<string | Buffer>;
  /** The next text frame, parsed. */
  nextJson(): Promise<any>;
  /** Resolves with the close code and reason. */
  closed: Promise<{ code: number; reason: string }>;
  send(data: string | Buffer): void;
}

export function openSocket(url: string, headers: Record<string, string> = {}): Promise<TestSocket> {
  const ws = new WebSocket(url, { headers });
  const queue: (string | Buffer)[] = [];
  const waiting: ((frame: string | Buffer) => void)[] = [];
  ws.on('message', (data: Buffer, isBinary) => {
    const frame = isBinary ? data : data.toString('utf8');
    const waiter = waiting.shift();
    if (waiter) waiter(frame);
    else queue.push(frame);
  });
  const closed = new Promise<{ code: number; reason: string }>((resolve) => ws.on('close', (code, reason) => resolve({ code, reason: reason.toString('utf8') })));
  const next = () => new Promise<string | Buffer>((resolve) => (queue.length ? resolve(queue.shift()!) : waiting.push(resolve)));
  const socket: TestSocket = {
    ws,
    next,
    nextJson: async () => JSON.parse(String(await next())),
    closed,
    send: (data) => ws.send(data),
  };
  return new Promise((resolve, reject) => {
    ws.once('open', () => resolve(socket));
    ws.once('error', reject);
    ws.once('unexpected-response', (_req, res) => reject(new Error(`upgrade refused: ${res.statusCode}`)));
  });
}

/** The status and problem document of an upgrade Wisp answered over HTTP instead. */
export function refusedUpgrade(url: string, headers: Record<string, string> = {}): Promise<{ status: number; problem: any }> {
  const ws = new WebSocket(url, { headers });
  return new Promise((resolve, reject) => {
    ws.once('open', () => reject(new Error('the upgrade was accepted')));
    ws.once('error', () => undefined);
    ws.once('unexpected-response', (_req, res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, problem: body ? JSON.parse(body) : null }));
    });
  });
}
