// A local HTTP server that holds every request until the test opens the gate: functions fetch
// it to stay busy for exactly as long as a test needs, with no sleeps on either side.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import type { Test } from 'tap';

export interface Gate {
  url: string;
  /** Resolves once `count` requests are being held. */
  arrived(count: number): Promise<void>;
  open(): void;
  /** How many requests came, held or not. */
  received(): number;
}

export async function startGate(t: Test): Promise<Gate> {
  const held: ServerResponse[] = [];
  const waiters: { count: number; resolve: () => void }[] = [];
  let isOpen = false;
  let received = 0;
  const server = createServer((_req: IncomingMessage, res: ServerResponse) => {
    received++;
    if (isOpen) return void res.end('open');
    held.push(res);
    for (const w of waiters.filter((w) => held.length >= w.count)) w.resolve();
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.teardown(() => {
    for (const res of held) res.end();
    server.closeAllConnections();
    server.close();
  });
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`,
    arrived: (count) => (held.length >= count ? Promise.resolve() : new Promise((resolve) => waiters.push({ count, resolve }))),
    open: () => {
      isOpen = true;
      for (const res of held.splice(0)) res.end('open');
    },
    received: () => received,
  };
}
