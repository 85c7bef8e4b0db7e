// Messages every node of a cluster hears (Redis pub/sub): that a function was deployed or its
// secrets changed, so that each node's caches follow at once. Delivery is at most once and only
// to nodes connected at that moment; whatever a message says is also in the store, so a node
// that missed one (it was disconnected) reloads what it caches when it reconnects.

export interface BusMessage {
  /**
   * What changed: a function's versions or active version (`function`), or its secrets (`env`);
   * an invocation's state (`invocation`: whoever waits on it elsewhere reads it again); a
   * running invocation to stop wherever its attempt runs (`cancel`); a function's logs followed on
   * the sending node (`log-follow`), and a call's lines for those following them (`log`, with `data`).
   */
  kind: 'function' | 'env' | 'trigger' | 'invocation' | 'cancel' | 'log-follow' | 'log';
  /** The function, the trigger's id (a cron trigger created or deleted), or the invocation's id. */
  name: string;
  /** The node that sent it (which has already applied the change). */
  from: string;
  /** What a `log` message carries: the call's lines (invocations/function-log-feed.ts's CallLog); an `invocation` message, its batch's id. */
  data?: unknown;
}

export interface MessageBus {
  publish(message: BusMessage): Promise<void>;
  /** `onMessage` for every message; `onReconnect` after each loss of the connection (messages may have been missed). Several may subscribe. */
  subscribe(onMessage: (message: BusMessage) => void, onReconnect: () => void): Promise<void>;
  close(): Promise<void>;
}
