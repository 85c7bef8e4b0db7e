// Inside an instance thread: the clients' WebSockets as the instance sees them. Each open socket
// is a WispSocket with an `id` the instance may keep (in its state too: it serializes as `{id}`,
// its methods live on the prototype) and `send`/`close`, usable from any method, not only the
// socket handlers. The gateway holds the real socket; these post what the instance does to it.
import type { SocketAction } from './protocol.js';

export type SocketData = string | ArrayBuffer | ArrayBufferView;

/** Close codes an instance may use: normal closure, and the range RFC 6455 leaves to applications. */
const validCloseCode = (code: number) => code === 1000 || (Number.isInteger(code) && code >= 3000 && code <= 4999);
/** RFC 6455: a close reason is at most 123 bytes of UTF-8. */
const MAX_REASON_BYTES = 123;

export class WispSocket {
  readonly id: string;

  constructor(id: string) {
    this.id = id;
  }

  /** Whether the client is still connected, as far as this thread knows. */
  get open(): boolean {
    return handles.isOpen(this.id);
  }

  /** Sends a text (string) or binary frame; on a socket already closed it does nothing. */
  send(data: SocketData): void {
    handles.send(this.id, data);
  }

  /** Closes the socket with `code` (1000, or 3000–4999) and a reason of at most 123 bytes. */
  close(code = 1000, reason = ''): void {
    handles.close(this.id, code, reason);
  }
}

/** The frame's payload; bytes are copied, since the caller may change its buffer before it is sent. */
function frame(data: SocketData): string | Uint8Array {
  if (typeof data === 'string') return data;
  if (data instanceof ArrayBuffer) return new Uint8Array(data.slice(0));
  if (ArrayBuffer.isView(data)) return new Uint8Array(data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength));
  throw new TypeError(`socket.send() takes a string, an ArrayBuffer or a typed array; got ${data === null ? 'null' : typeof data} (use JSON.stringify for objects)`);
}

/** The sockets open to this instance, and the actions they post to the gateway. */
export class SocketHandles {
  readonly #open = new Map<string, WispSocket>();
  #post: (action: SocketAction) => void = () => undefined;

  /** Where actions go (the thread's port); set once the thread has one. */
  connect(post: (action: SocketAction) => void): void {
    this.#post = post;
  }

  opened(id: string): WispSocket {
    const socket = new WispSocket(id);
    this.#open.set(id, socket);
    return socket;
  }

  /** The client closed it: the socket as it was, or undefined if the instance had closed it first. */
  closed(id: string): WispSocket | undefined {
    const socket = this.#open.get(id);
    this.#open.delete(id);
    return socket;
  }

  get(id: string): WispSocket | undefined {
    return this.#open.get(id);
  }

  all(): WispSocket[] {
    return [...this.#open.values()];
  }

  isOpen(id: string): boolean {
    return this.#open.has(id);
  }

  send(id: string, data: SocketData): void {
    const bytes = frame(data);
    if (this.#open.has(id)) this.#post({ op: 'socket-send', socketId: id, data: bytes });
  }

  /** Sends to every open socket but `except`; returns how many it went to. */
  broadcast(data: SocketData, except?: WispSocket | string): number {
    const bytes = frame(data);
    const skip = typeof except === 'string' ? except : except?.id;
    let sent = 0;
    for (const id of this.#open.keys()) {
      if (id === skip) continue;
      this.#post({ op: 'socket-send', socketId: id, data: bytes });
      sent++;
    }
    return sent;
  }

  close(id: string, code: number, reason: string): void {
    if (!validCloseCode(code)) throw new RangeError(`socket.close() takes code 1000 or one from 3000 to 4999; got ${code}`);
    if (Buffer.byteLength(reason) > MAX_REASON_BYTES) throw new RangeError(`a close reason is at most ${MAX_REASON_BYTES} bytes of UTF-8; got ${Buffer.byteLength(reason)}`);
    if (!this.#open.delete(id)) return;
    this.#post({ op: 'socket-close', socketId: id, code, reason });
  }
}

export const handles = new SocketHandles();
