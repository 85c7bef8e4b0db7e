// Delivers the final record of an invocation submitted with X-Callback-Url: a POST signed the
// Standard Webhooks way (webhook-id, webhook-timestamp, webhook-signature), retried with backoff
// while the receiver fails. Delivery state is in the store, so pending callbacks survive a restart.
import { standardKey } from '../common/standard-webhooks.js';
import { WakeTimer } from '../common/wake-timer.js';
import type { InvocationStore } from '../store/invocation-store.js';
import type { InvocationRecord } from '../store/records.js';
import type { InvocationEvents } from './invocation-events.js';
import { view } from './invocation-record.js';
import { afterDelivery, postSigned, type CallbackDeliveryOptions, type DeliveryRetry } from './signed-post.js';

export interface CallbackSenderOptions extends CallbackDeliveryOptions {
  store: InvocationStore;
  events: InvocationEvents;
}


export class CallbackSender {
  readonly #o: CallbackSenderOptions;
  readonly #sending = new Set<string>();
  readonly #wake: WakeTimer;
  readonly #key: Buffer;
  #closed = false;
  #looking = false;
  #lookAgain = false;
  #inFlight = new Set<Promise<void>>();

  constructor(options: CallbackSenderOptions) {
    this.#o = options;
    this.#wake = new WakeTimer(options.clock, () => this.kick());
    this.#key = standardKey(options.secret);
  }

  /** Told of every invocation that reached a final state; only those with a callback cost a look. */
  finished(record: InvocationRecord): void {
    if (record.callback) this.kick();
  }

  /** Sends every callback that is due, and arranges to wake for the next one (coalesced). */
  kick(): void {
    if (this.#closed) return;
    if (this.#looking) {
      this.#lookAgain = true;
      return;
    }
    this.#looking = true;
    void this.#sendDue()
      .catch((err: unknown) => {
        this.#o.log(`cannot take due callbacks: ${String(err)}`);
        this.#wake.wakeAt(this.#o.clock.now() + 1000, this.#o.clock.now());
      })
      .finally(() => {
        this.#looking = false;
        if (this.#lookAgain) {
          this.#lookAgain = false;
          this.kick();
        }
      });
  }

  async #sendDue(): Promise<void> {
    const now = this.#o.clock.now();
    // Claimed: each is pushed past the delivery's timeout, so no other sender takes it meanwhile.
    for (const record of await this.#o.store.claimCallbacks(now, 64, this.#o.timeoutMs * 2 + 1000)) {
      if (this.#sending.has(record.id)) continue;
      this.#sending.add(record.id);
      const delivery = this.#deliver(record).finally(() => {
        this.#sending.delete(record.id);
        this.#inFlight.delete(delivery);
        this.kick();
      });
      this.#inFlight.add(delivery);
    }
    this.#wake.wakeAt(await this.#o.store.nextCallbackAt(), now);
  }

  /** Stops sending; deliveries under way end first. Pending ones stay in the store. */
  async close(): Promise<void> {
    this.#closed = true;
    this.#wake.cancel();
    await Promise.allSettled([...this.#inFlight]);
  }

  #retry(): DeliveryRetry {
    return { maxAttempts: this.#o.maxAttempts, backoff: this.#o.backoff, now: this.#o.clock.now(), random: this.#o.clock.random() };
  }

  async #deliver(record: InvocationRecord): Promise<void> {
    const callback = record.callback!;
    const body = JSON.stringify(view(record));
    // One id per final record: the same on every retry of this delivery, new if the invocation
    // is run again and finishes again.
    const id = `${record.id}.${record.attempts}`;
    const failure = await postSigned({ url: callback.url, id, body, key: this.#key, nowSeconds: Math.floor(this.#o.clock.now() / 1000), timeoutMs: this.#o.timeoutMs });
    const state = afterDelivery(callback, failure, this.#retry());
    if (state.status === 'failed') this.#o.log(`callback for invocation ${record.id} to ${state.url} failed ${state.attempts} times; giving up: ${failure}`);
    // Not stored when the invocation was run again while the request was out.
    const current = await this.#o.store.settleCallback(record.id, record.attempts, state);
    if (current) this.#o.events.publish(current);
  }
}
