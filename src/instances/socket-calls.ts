// A client's WebSocket to an instance, once upgraded: its open, each message and its close go to
// the instance's handlers through the thread's mailbox, in order with its method calls and bounded
// by its function's timeoutMs like them. A handler that throws closes the socket with 1011 and
// the error's message. A client that sends faster than the instance handles is paused (TCP then
// pushes back on it) rather than queued without bound.
import { redactError } from '../common/secret-redaction.js';
import { WispError } from '../errors.js';
import type { InstanceThread } from '../runtime/instance-thread.js';
import type { LoggedInstanceOutcome, SocketDelivery } from '../runtime/protocol.js';
import { fromCallFailure } from './instance-errors.js';
import { redacted, type InstanceCalls, type InstanceCallsOptions } from './instance-calls.js';
import { CLOSE, closeReason, type ClientLink, type InstanceSockets } from './instance-sockets.js';
import { runningThread, type LiveInstance } from './live-instances.js';

/** A client's socket as the route sees it: it can also stop reading from the client for a while. */
export interface PausableLink extends ClientLink {
  pause(): void;
  resume(): void;
}

/** What the route tells the instance about the client's socket. */
export interface SocketSession {
  readonly id: string;
  message(data: string | Uint8Array): void;
  /** The client closed it (or it broke: 1006). */
  closed(code: number, reason: string): void;
}

/** Messages handed to the thread and not yet handled, past which the client is paused; it resumes at LOW. */
const HIGH_WATER = 64;
const LOW_WATER = 16;

export interface SocketCallsOptions {
  sockets: InstanceSockets;
  calls: InstanceCalls;
  secrets: InstanceCallsOptions['secrets'];
  /** Told when a socket event has been handled (an instance's idle time counts from there). */
  touched: (live: LiveInstance) => void;
}

/** The check made before the upgrade: a problem here is answered over HTTP. */
export function acceptingThread(live: LiveInstance): InstanceThread {
  const thread = runningThread(live);
  if (!thread.acceptsSockets) {
    throw new WispError('NO_SOCKET_HANDLER', `instance ${live.record.id}: class ${live.record.class} has no webSocketMessage(socket, data) method, so it takes no WebSockets`);
  }
  return thread;
}

export class SocketCalls {
  readonly #o: SocketCallsOptions;

  constructor(options: SocketCallsOptions) {
    this.#o = options;
  }

  /** Registers the client's socket with the instance and delivers its open (webSocketOpen). */
  open(live: LiveInstance, socketId: string, link: PausableLink): SocketSession {
    // Going to sleep since the check before the upgrade: its thread is about to stop.
    if (live.hibernating) throw new WispError('INSTANCE_UNAVAILABLE', `instance ${live.record.id} is hibernating just now; connect again`, { retryAfterSeconds: 1 });
    const thread = acceptingThread(live);
    const { sockets } = this.#o;
    const instanceId = live.record.id;
    sockets.add(instanceId, socketId, link);
    let inFlight = 0;
    let paused = false;
    const deliver = (event: SocketDelivery) => {
      inFlight++;
      if (!paused && inFlight >= HIGH_WATER) {
        paused = true;
        link.pause();
      }
      thread.socket(event, live.timeoutMs).then(
        (outcome) => {
          inFlight--;
          if (paused && inFlight <= LOW_WATER) {
            paused = false;
            link.resume();
          }
          const failure = this.#handled(live, event, outcome);
          if (failure === undefined || !sockets.has(socketId)) return;
          // Closed for the client; the thread forgets it too (its webSocketClose hears why).
          const reason = closeReason(failure);
          sockets.close(socketId, CLOSE.handlerFailed.code, reason);
          if (thread.alive && event.kind !== 'close') deliver({ kind: 'close', socketId, code: CLOSE.handlerFailed.code, reason });
        },
        // The thread died (a crash, a deadline) or was stopped: the instance closed its sockets.
        () => undefined,
      );
    };
    deliver({ kind: 'open', socketId });
    return {
      id: socketId,
      message: (data) => {
        if (sockets.has(socketId) && thread.alive) deliver({ kind: 'message', socketId, data });
      },
      closed: (code, reason) => {
        const cut = sockets.cutReason(socketId);
        // Unknown by now: the instance closed it, or Wisp did for the instance; nothing to tell.
        if (!sockets.remove(socketId) || !thread.alive) return;
        deliver(cut === undefined ? { kind: 'close', socketId, code, reason } : { kind: 'close', socketId, code: CLOSE.tooSlow.code, reason: cut });
      },
    };
  }

  /** Publishes what the handler logged; returns why it failed, if it did. */
  #handled(live: LiveInstance, event: SocketDelivery, outcome: LoggedInstanceOutcome<null>): string | undefined {
    const { record } = live;
    const secrets = this.#o.secrets(record.function);
    const logs = redacted(outcome.logs, secrets);
    const handler = `webSocket${event.kind[0]!.toUpperCase()}${event.kind.slice(1)}`;
    // A handler may change the state like a method: a periodic checkpoint (checkpointEveryMs) must take it.
    live.dirty = true;
    this.#o.touched(live);
    if (outcome.ok) {
      this.#o.calls.publish(record, handler, logs, null);
      return undefined;
    }
    const failure = secrets ? { ...outcome, error: redactError(outcome.error, secrets.redact) } : outcome;
    this.#o.calls.publish(record, handler, logs, fromCallFailure(failure, record.id, handler));
    return `${handler} threw ${failure.error.name}: ${failure.error.message}`;
  }
}
