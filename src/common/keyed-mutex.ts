// Runs one operation at a time per key (an instance id, a name): later callers wait their turn.
// Mutations of one instance (create by name, suspend, resume, delete, restart) go through it.
export class KeyedMutex {
  readonly #tails = new Map<string, Promise<unknown>>();

  async run<T>(key: string, operation: () => Promise<T>): Promise<T> {
    const previous = this.#tails.get(key) ?? Promise.resolve();
    const result = previous.then(operation, operation);
    const tail = result.catch(() => undefined);
    this.#tails.set(key, tail);
    try {
      return await result;
    } finally {
      // The last in line cleans up, so the map holds only keys with work pending.
      if (this.#tails.get(key) === tail) this.#tails.delete(key);
    }
  }
}
