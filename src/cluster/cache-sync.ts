// Keeps each node's caches of what is shared (functions and their versions, functions' secrets,
// the cron triggers it arms) in step across the cluster: a node that changes one tells the others on the message bus, and
// they read it again from the store. A node that lost its connection to the bus may have missed
// messages: it reads everything again when it is back.
import type { MessageBus, BusMessage } from '../store/message-bus.js';

/** What a node caches of the shared state. */
export type SharedKind = 'function' | 'env' | 'trigger';
const SHARED: ReadonlySet<string> = new Set<SharedKind>(['function', 'env', 'trigger']);

export interface CachedState {
  /** Reads one function again. */
  refreshFunction(name: string): Promise<void>;
  /** Reads every function's secrets again. */
  refreshEnv(): Promise<void>;
  /** Reads one cron trigger again (arms or disarms it). */
  refreshTrigger(id: string): Promise<void>;
  /** Reads everything again. */
  reloadAll(): Promise<void>;
}

export interface CacheSync {
  /** This node changed `name`'s functions (`function`) or secrets (`env`), and stored it. */
  changed(kind: SharedKind, name: string): void;
  start(): Promise<void>;
}

/** A node alone has no one to tell. */
export const aloneCacheSync: CacheSync = { changed: () => undefined, start: async () => undefined };

export class BusCacheSync implements CacheSync {
  readonly #bus: MessageBus;
  readonly #nodeId: string;
  readonly #state: CachedState;
  readonly #log: (message: string) => void;
  /** Refreshes run one after another, in the order their messages came: an older read never lands last. */
  #queue: Promise<void> = Promise.resolve();

  constructor(bus: MessageBus, nodeId: string, state: CachedState, log: (message: string) => void) {
    this.#bus = bus;
    this.#nodeId = nodeId;
    this.#state = state;
    this.#log = log;
  }

  changed(kind: SharedKind, name: string): void {
    this.#bus.publish({ kind, name, from: this.#nodeId }).catch((err: unknown) => this.#log(`cannot tell the other nodes that ${kind} of "${name}" changed: ${String(err)}; they see it when they next reload`));
  }

  start(): Promise<void> {
    return this.#bus.subscribe(
      (message) => {
        if (message.from === this.#nodeId || !SHARED.has(message.kind)) return;
        const refresh = { function: () => this.#state.refreshFunction(message.name), env: () => this.#state.refreshEnv(), trigger: () => this.#state.refreshTrigger(message.name) }[message.kind as SharedKind];
        this.#enqueue(
          refresh,
          `cannot refresh ${message.kind} of "${message.name}" after a change on node ${message.from}`,
        );
      },
      () => this.#enqueue(() => this.#state.reloadAll(), 'cannot reload functions and secrets after the bus reconnected'),
    );
  }

  #enqueue(work: () => Promise<void>, failure: string): void {
    this.#queue = this.#queue.then(work).catch((err: unknown) => this.#log(`${failure}: ${String(err)}`));
  }
}
