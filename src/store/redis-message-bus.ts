// The message bus on Redis pub/sub: one channel per cluster (under the key prefix), and a
// connection of its own for subscribing (a subscribed connection can do nothing else).
import type { Redis } from 'ioredis';
import type { BusMessage, MessageBus } from './message-bus.js';

export class RedisMessageBus implements MessageBus {
  readonly #redis: Redis;
  readonly #channel: string;
  #subscriber: Redis | undefined;
  readonly #handlers: { onMessage: (message: BusMessage) => void; onReconnect: () => void }[] = [];

  constructor(redis: Redis, prefix: string) {
    this.#redis = redis;
    this.#channel = `${prefix}bus`;
  }

  async publish(message: BusMessage): Promise<void> {
    await this.#redis.publish(this.#channel, JSON.stringify(message));
  }

  async subscribe(onMessage: (message: BusMessage) => void, onReconnect: () => void): Promise<void> {
    this.#handlers.push({ onMessage, onReconnect });
    if (this.#subscriber) return;
    // One connection for every subscriber here: a subscribed connection can do nothing else.
    const subscriber = this.#redis.duplicate();
    this.#subscriber = subscriber;
    let lost = false;
    subscriber.on('error', () => void (lost = true));
    subscriber.on('close', () => void (lost = true));
    // ioredis subscribes again by itself after a reconnection.
    subscriber.on('ready', () => {
      if (!lost) return;
      lost = false;
      for (const handler of this.#handlers) handler.onReconnect();
    });
    subscriber.on('message', (channel: string, text: string) => {
      if (channel !== this.#channel) return;
      let message: BusMessage;
      try {
        message = JSON.parse(text) as BusMessage;
      } catch {
        return; // Not one of ours.
      }
      for (const handler of this.#handlers) handler.onMessage(message);
    });
    await subscriber.subscribe(this.#channel);
  }

  async close(): Promise<void> {
    await this.#subscriber?.quit().catch(() => this.#subscriber?.disconnect());
  }
}
