// The output gate of an instance created with `checkpoint: "every-call"` (design §5.7, Durable
// Objects' output gate): a call's reply waits until a checkpoint taken after the call finished is
// committed, so that nothing a client was told survives less than its reply. Calls that finish
// while a checkpoint is being taken share the next one: one checkpoint per round, not per call.

export class CheckpointGate {
  readonly #take: () => Promise<void>;
  #waiting: { resolve: () => void; reject: (err: unknown) => void }[] = [];
  #running = false;

  /** `take` checkpoints the instance and commits the record that names the checkpoint. */
  constructor(take: () => Promise<void>) {
    this.#take = take;
  }

  /** Resolves once a checkpoint that started after this call is committed; rejects with why it was not. */
  commit(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.#waiting.push({ resolve, reject });
      if (!this.#running) void this.#rounds();
    });
  }

  async #rounds(): Promise<void> {
    this.#running = true;
    while (this.#waiting.length > 0) {
      const round = this.#waiting;
      this.#waiting = [];
      try {
        await this.#take();
        for (const waiter of round) waiter.resolve();
      } catch (err) {
        for (const waiter of round) waiter.reject(err);
      }
    }
    this.#running = false;
  }
}
