// Messages every node of a cluster hears (Redis pub/sub): that a function was deployed or its
// secrets changed, so that each node's caches follow at once. Delivery is at most once and only
// to nodes connected at that moment; whatever a message says is also in the store, so a node
// that missed one (it was disconnected) reloads what it caches when it reconnects.

export interface BusMessage {
  /** What changed: a function's versions or active version, or its secrets. */
  kind: 'function' | 'env';
  /** The function. */
  name: string;
  /** The node that sent it (which has already applied the change). */
  from: string;
}

export interface MessageBus {
  publish(message: BusMessage): Promise<void>;
  /** `onMessage` for every message; `onReconnect` after each loss of the connection (messages may have been missed). */
  subscribe(onMessage: (message: BusMessage) => void, onReconnect: () => void): Promise<void>;
  close(): Promise<void>;
}
