// When a batch's last member becomes final: the batch is marked finished (of the nodes that find
// it complete, exactly one wins) and its X-Callback-Url gets the batch, once, signed like an
// invocation's callback and retried with backoff while the receiver fails. A node looks at a
// batch a short while after one of its members ended there, so a batch of 10,000 is counted a
// few times, not 10,000 times; after a restart it looks at every batch still open.
import { standardKey } from '../common/standard-webhooks.js';
import type { BatchStore } from '../store/batch-store.js';
import type { BatchRecord, InvocationRecord } from '../store/records.js';
import { batchView, finalCount } from './batch-record.js';
import type { InvocationEvents } from './invocation-events.js';
import { isFinal } from './invocation-record.js';
import { afterDelivery, postSigned, type CallbackDeliveryOptions } from './signed-post.js';

export interface BatchCompletionOptions extends CallbackDeliveryOptions {
  store: BatchStore;
  events: InvocationEvents;
}

/** How long after a member ends its batch is counted: members that end meanwhile share the count. */
const SETTLE_MS = 50;

export class BatchCompletion {
  readonly #o: BatchCompletionOptions;
  readonly #key: Buffer;
  /** Batches to count soon, and their timers; and callback retries waiting. */
  readonly #pending = new Map<string, NodeJS.Timeout>();
  readonly #retries = new Set<NodeJS.Timeout>();
  readonly #inFlight = new Set<Promise<void>>();
  #closed = false;

  constructor(options: BatchCompletionOptions) {
    this.#o = options;
    this.#key = standardKey(options.secret);
    options.events.observe((record) => this.#memberChanged(record));
  }

  /** After a restart, given the open batches: those that completed while this node was down, and callbacks still to deliver. */
  recover(open: readonly BatchRecord[]): void {
    for (const batch of open) {
      if (batch.finishedAt === null) this.#soon(batch.id);
      else if (batch.callback?.status === 'pending') this.#track(this.#deliver(batch));
    }
  }

  async close(): Promise<void> {
    this.#closed = true;
    for (const timer of [...this.#pending.values(), ...this.#retries]) clearTimeout(timer);
    this.#pending.clear();
    this.#retries.clear();
    await Promise.allSettled([...this.#inFlight]);
  }

  #memberChanged(record: InvocationRecord): void {
    if (record.batchId !== undefined && isFinal(record)) this.#soon(record.batchId);
  }

  #soon(id: string): void {
    if (this.#closed || this.#pending.has(id)) return;
    this.#pending.set(
      id,
      setTimeout(() => {
        this.#pending.delete(id);
        this.#track(this.#check(id));
      }, SETTLE_MS),
    );
  }

  #track(work: Promise<void>): void {
    const tracked = work
      .catch((err: unknown) => this.#o.log(`batch completion: ${String(err)}`))
      .finally(() => this.#inFlight.delete(tracked));
    this.#inFlight.add(tracked);
  }

  async #check(id: string): Promise<void> {
    const batch = await this.#o.store.get(id);
    if (!batch || batch.finishedAt !== null) return;
    if (finalCount(await this.#o.store.counts(id)) < batch.size) return;
    const finished = await this.#o.store.finish(id, this.#o.clock.now());
    // Another node (or a reader, finishNow) found it complete first: the callback is its to send.
    if (finished?.callback?.status === 'pending') await this.#deliver(finished);
  }

  /**
   * Marks a batch whose members are all final as finished now, for a reader that found it so
   * before the debounced check did (a view that says completed has its finishedAt); the
   * callback goes out in the background. Yields the batch as stored.
   */
  async finishNow(batch: BatchRecord): Promise<BatchRecord> {
    const finished = await this.#o.store.finish(batch.id, this.#o.clock.now());
    if (!finished) return (await this.#o.store.get(batch.id)) ?? batch;
    if (finished.callback?.status === 'pending') this.#track(this.#deliver(finished));
    return finished;
  }

  async #deliver(batch: BatchRecord): Promise<void> {
    if (this.#closed) return;
    const callback = batch.callback!;
    const body = JSON.stringify(batchView(batch, await this.#o.store.counts(batch.id)));
    const failure = await postSigned({ url: callback.url, id: `batch.${batch.id}`, body, key: this.#key, nowSeconds: Math.floor(this.#o.clock.now() / 1000), timeoutMs: this.#o.timeoutMs });
    const now = this.#o.clock.now();
    const state = afterDelivery(callback, failure, { maxAttempts: this.#o.maxAttempts, backoff: this.#o.backoff, now, random: this.#o.clock.random() });
    await this.#o.store.saveCallback(batch.id, state);
    if (state.status === 'failed') this.#o.log(`callback for batch ${batch.id} to ${state.url} failed ${state.attempts} times; giving up: ${failure}`);
    if (state.status !== 'pending' || this.#closed) return;
    const retry = setTimeout(() => {
      this.#retries.delete(retry);
      this.#track(this.#deliver({ ...batch, callback: state }));
    }, state.nextAt! - now);
    this.#retries.add(retry);
  }
}
