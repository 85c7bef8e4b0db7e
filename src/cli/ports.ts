// Ports for the nodes a launcher starts (lazycluster's free-port selection): a given first port
// and the ones after it, each of which must be free; a range to pick free ones from; or, with
// neither, ports the system hands out.
import { once } from 'node:events';
import { createServer, type AddressInfo } from 'node:net';
import { CliError, EXIT } from './cli-error.js';

/** Whether a server could listen on `port` on `host` right now (the port may be taken just after). */
export async function portFree(port: number, host = '127.0.0.1'): Promise<boolean> {
  const server = createServer();
  try {
    server.listen(port, host);
    await once(server, 'listening');
    return true;
  } catch {
    return false;
  } finally {
    server.close();
  }
}

/** A port the system picks, free at this moment. */
export async function anyFreePort(host = '127.0.0.1'): Promise<number> {
  const server = createServer();
  server.listen(0, host);
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

export type PortChoice = { kind: 'first'; port: number } | { kind: 'range'; from: number; to: number } | { kind: 'any' };

/** "8080-8090" → a range; throws a usage error for anything else. */
export function parseRange(text: string): { from: number; to: number } {
  const match = /^(\d{1,5})-(\d{1,5})$/.exec(text);
  const from = Number(match?.[1]);
  const to = Number(match?.[2]);
  if (!match || from < 1 || to > 65535 || from > to) throw new CliError('INVALID_PORTS', `--ports must be a range like 8080-8099 within 1-65535, got "${text}"`, EXIT.usage);
  return { from, to };
}

/** `count` ports as `choice` says, each free when it was checked; `taken` are left out (the Redis port). */
export async function choosePorts(choice: PortChoice, count: number, taken: number[] = []): Promise<number[]> {
  const out: number[] = [];
  if (choice.kind === 'first') {
    for (let port = choice.port; port < choice.port + count; port++) {
      if (port > 65535) throw new CliError('NO_PORTS_LEFT', `--port ${choice.port} with ${count} nodes needs ports up to ${choice.port + count - 1}, past 65535`, EXIT.notStarted);
      if (taken.includes(port) || !(await portFree(port))) {
        throw new CliError('PORT_IN_USE', `port ${port} (for node ${out.length + 1} of ${count}) is in use; free it, or pick another --port, or let the launcher pick with --ports A-B`, EXIT.notStarted);
      }
      out.push(port);
    }
    return out;
  }
  if (choice.kind === 'range') {
    for (let port = choice.from; port <= choice.to && out.length < count; port++) {
      if (!taken.includes(port) && (await portFree(port))) out.push(port);
    }
    if (out.length < count) {
      throw new CliError('NO_PORTS_LEFT', `only ${out.length} of the ports ${choice.from}-${choice.to} are free, and ${count} nodes need ${count}; widen --ports or free some`, EXIT.notStarted);
    }
    return out;
  }
  while (out.length < count) {
    const port = await anyFreePort();
    if (!taken.includes(port) && !out.includes(port)) out.push(port);
  }
  return out;
}
