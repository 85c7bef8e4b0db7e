// A client's WebSocket to an instance another node owns (design §5.3): the node the client
// reached opens a signed WebSocket of its own to the owner's internal route and relays frames both
// ways, so any node serves any instance's sockets. The owner refuses what it would refuse a
// client (as a problem over HTTP, rebuilt here as the same WispError); when the owner's end
// breaks without a close frame (its node died, or lost its lease) the client is told to connect
// again (4003), which reaches the instance wherever it runs next.
import WebSocket from 'ws';
import { WispError } from '../errors.js';
import { signRequest } from './internal-auth.js';
import { PeerUnreachable, rebuiltError } from './peer-client.js';

export const instanceSocketPath = (id: string, epoch: number) => `/internal/v1/instances/${id}/ws?epoch=${epoch}`;

/** Frames sent one way and not yet written, past which the sending side is paused; it resumes at LOW. */
const HIGH_WATER = 256;
const LOW_WATER = 64;
/** What an owner's end that broke without a close frame means to the client. */
const OWNER_GONE = { code: 4003, reason: "the instance's node went away; connect again" };

/** Opens the relay's end to the owner at `address`; throws the owner's refusal, or PeerUnreachable. */
export function connectToOwner(address: string, id: string, epoch: number, secret: string, maxPayload: number): Promise<WebSocket> {
  const path = instanceSocketPath(id, epoch);
  const upstream = new WebSocket(`${address.replace(/^http/, 'ws')}${path}`, { headers: signRequest(secret, 'GET', path, Buffer.alloc(0)), maxPayload, handshakeTimeout: 10_000 });
  return new Promise((resolve, reject) => {
    upstream.once('open', () => resolve(upstream));
    upstream.once('error', (err) => reject(new PeerUnreachable(err.message)));
    upstream.once('unexpected-response', (_request, response) => {
      let body = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => (body += chunk));
      response.on('end', () => {
        upstream.terminate();
        try {
          const problem = JSON.parse(body) as { code: string; detail: string };
          reject(rebuiltError({ code: problem.code, message: problem.detail }));
        } catch {
          reject(new WispError('INSTANCE_UNAVAILABLE', `the node that runs instance ${id} refused its WebSocket with status ${response.statusCode}`, { retryAfterSeconds: 1 }));
        }
      });
    });
  });
}

/** Close codes a peer may not send in a frame (RFC 6455 §7.4.1): what stands for them on the wire. */
const sendable = (code: number) => (code === 1005 || code === 1006 || code === 1015 ? undefined : code);

/** Relays frames between the client and the owner until either end closes; the close goes across. */
export function relay(client: WebSocket, upstream: WebSocket): void {
  // The owner's end broke during the client's upgrade.
  if (upstream.readyState !== upstream.OPEN) return client.close(OWNER_GONE.code, OWNER_GONE.reason);
  pipe(client, upstream);
  pipe(upstream, client);
  upstream.on('error', () => undefined);
  client.on('close', (code, reason) => {
    // A client that vanished (1006) vanishes for the instance too.
    if (code === 1006) return upstream.terminate();
    const wire = sendable(code);
    if (wire === undefined) upstream.close();
    else upstream.close(wire, reason);
  });
  upstream.on('close', (code, reason) => {
    if (client.readyState !== client.OPEN) return;
    if (code === 1006) return client.close(OWNER_GONE.code, OWNER_GONE.reason);
    const wire = sendable(code);
    if (wire === undefined) client.close();
    else client.close(wire, reason);
  });
}

/** Sends what `from` receives to `to`, pausing `from` while too many frames wait to be written. */
function pipe(from: WebSocket, to: WebSocket): void {
  let waiting = 0;
  let paused = false;
  const written = () => {
    waiting--;
    if (paused && waiting <= LOW_WATER) {
      paused = false;
      from.resume();
    }
  };
  from.on('message', (data, isBinary) => {
    if (to.readyState !== to.OPEN) return;
    waiting++;
    to.send(data as Buffer, { binary: isBinary }, written);
    if (!paused && waiting >= HIGH_WATER) {
      paused = true;
      from.pause();
    }
  });
}
