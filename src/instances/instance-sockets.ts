// The clients' WebSockets to instances on this node (GET /v1/instances/{id}/ws), on the gateway's
// side: which instance each belongs to, what the instance's thread does to them (send, close),
// and their closing when the instance stops. Sockets survive nothing: a suspend, delete, crash or
// move closes them with a code of its own (CLOSE below, documented in openapi.yaml), so a client
// knows whether to connect again.
import type { SocketAction } from '../runtime/protocol.js';

/** A client's WebSocket as this file needs it (ws's WebSocket, or a relay to another node). */
export interface ClientLink {
  send(data: string | Uint8Array): void;
  close(code: number, reason: string): void;
  /** Cuts the connection at once, without a close frame. */
  terminate(): void;
  /** Bytes queued for the client and not yet written. */
  readonly bufferedAmount: number;
}

/** Why Wisp closed a client's socket, and what the code means to the client. */
export const CLOSE = {
  /** Wisp is shutting down (this node): connect again later, perhaps to another node. */
  shutdown: { code: 1001, reason: 'Wisp is shutting down' },
  /** The instance's webSocketOpen or webSocketMessage threw; the reason says what. */
  handlerFailed: { code: 1011, reason: 'the instance failed' },
  suspended: { code: 4000, reason: 'the instance was suspended' },
  deleted: { code: 4001, reason: 'the instance was deleted' },
  /** It crashed or ran past its timeout; it restarts if its maxRestarts allows: connect again. */
  crashed: { code: 4002, reason: 'the instance crashed' },
  /** Another node holds it now (failover): connect again. */
  moved: { code: 4003, reason: 'the instance moved to another node' },
  /** Its group was suspended, deleted or failed. */
  groupStopped: { code: 4004, reason: "the instance's group stopped it" },
  /**
   * More than instances.socketBufferBytes waited to be written to the client. The connection is
   * cut (a close frame would wait behind all that data): the client sees 1006, the instance's
   * webSocketClose this code.
   */
  tooSlow: { code: 4008, reason: 'the client read too slowly' },
} as const;

export type CloseWhy = (typeof CLOSE)[keyof typeof CLOSE];

/** A close reason cut to the 123 bytes of UTF-8 RFC 6455 allows. */
export function closeReason(text: string): string {
  if (Buffer.byteLength(text) <= 123) return text;
  let cut = text.slice(0, 120);
  while (Buffer.byteLength(cut) > 120) cut = cut.slice(0, -1);
  return `${cut}...`;
}

interface Entry {
  instanceId: string;
  link: ClientLink;
  /** Set when Wisp cut the connection because the client read too slowly. */
  cut?: string;
}

export class InstanceSockets {
  readonly #byId = new Map<string, Entry>();
  readonly #byInstance = new Map<string, Set<string>>();
  readonly #bufferBytes: number;
  #closedListener: (instanceId: string) => void = () => undefined;

  /** `bufferBytes`: what may wait for one client before it is closed as too slow. */
  constructor(bufferBytes: number) {
    this.#bufferBytes = bufferBytes;
  }

  /** Told when an instance's last socket has gone (it may hibernate now). */
  onLastClosed(listener: (instanceId: string) => void): void {
    this.#closedListener = listener;
  }

  add(instanceId: string, socketId: string, link: ClientLink): void {
    this.#byId.set(socketId, { instanceId, link });
    let ids = this.#byInstance.get(instanceId);
    if (!ids) this.#byInstance.set(instanceId, (ids = new Set()));
    ids.add(socketId);
  }

  /** Whether the socket is still this instance's (not closed by it, nor by Wisp for it). */
  has(socketId: string): boolean {
    return this.#byId.has(socketId);
  }

  /** Forgets the socket; true if it was still known. */
  remove(socketId: string): boolean {
    const entry = this.#byId.get(socketId);
    if (!entry) return false;
    this.#byId.delete(socketId);
    const ids = this.#byInstance.get(entry.instanceId)!;
    ids.delete(socketId);
    if (ids.size === 0) {
      this.#byInstance.delete(entry.instanceId);
      this.#closedListener(entry.instanceId);
    }
    return true;
  }

  count(instanceId: string): number {
    return this.#byInstance.get(instanceId)?.size ?? 0;
  }

  /** What an instance's thread did to one of its sockets. */
  act(action: SocketAction): void {
    const entry = this.#byId.get(action.socketId);
    if (!entry) return;
    if (action.op === 'socket-close') {
      this.remove(action.socketId);
      entry.link.close(action.code, action.reason);
      return;
    }
    if (entry.cut) return;
    entry.link.send(action.data);
    if (entry.link.bufferedAmount <= this.#bufferBytes) return;
    // Kept known: the close reaches the instance's webSocketClose, with cutReason's code.
    entry.cut = closeReason(`${CLOSE.tooSlow.reason}: over ${this.#bufferBytes} bytes waited for it`);
    entry.link.terminate();
  }

  /** Why Wisp cut the socket's connection, if it did: what the instance is told instead of 1006. */
  cutReason(socketId: string): string | undefined {
    return this.#byId.get(socketId)?.cut;
  }

  /** Closes one socket for Wisp's own reason; its instance is not told (it failed, or is told otherwise). */
  close(socketId: string, code: number, reason: string): void {
    const entry = this.#byId.get(socketId);
    if (!entry) return;
    this.remove(socketId);
    entry.link.close(code, closeReason(reason));
  }

  /** Closes every socket of the instance: it stopped (the thread is gone, or going). */
  closeAll(instanceId: string, why: CloseWhy, detail?: string): void {
    const reason = closeReason(detail ? `${why.reason}: ${detail}` : why.reason);
    for (const socketId of [...(this.#byInstance.get(instanceId) ?? [])]) this.close(socketId, why.code, reason);
  }

  /** Closes every socket on this node (shutdown, or the loss of the node's lease). */
  closeEvery(why: CloseWhy): void {
    for (const instanceId of [...this.#byInstance.keys()]) this.closeAll(instanceId, why);
  }
}
