// A function's secrets (`ctx.env`): set at deploy or through /v1/functions/{name}/env, handed to
// its calls, and never answered back. Values are cached per function because every call reads them.
import { type Clock } from '../common/clock.js';
import { secretsOf, type FunctionSecrets } from '../common/secret-redaction.js';
import { WispError } from '../errors.js';
import type { EnvEntry, EnvStore } from '../store/env-store.js';

/** Like a shell variable, so that code ported from process.env keeps its names. */
const NAME = /^[A-Za-z_][A-Za-z0-9_]{0,127}$/;
const MAX_ENTRIES = 100;
/** All values of one function together (AWS Lambda allows 4 KB; certificates need more). */
export const MAX_ENV_BYTES = 64 * 1024;
const LIMITS = { maxEntries: MAX_ENTRIES, maxBytes: MAX_ENV_BYTES };

export type EnvChanges = Readonly<Record<string, string | null>>;


export interface FunctionEnvOptions {
  store: EnvStore;
  /** Throws FUNCTION_NOT_FOUND for a function that does not exist. */
  requireFunction: (name: string) => void;
  /** Told after each change this node stored (see Registry's `changed`). */
  changed?: (fn: string) => void;
  clock: Clock;
}

export class FunctionEnv {
  readonly #o: FunctionEnvOptions;
  /** Every function's secrets, loaded at start and kept current by apply: calls never wait on the store. */
  readonly #cache = new Map<string, FunctionSecrets>();

  constructor(options: FunctionEnvOptions) {
    this.#o = options;
  }

  /** Reads every function's values into the cache; before the first call is served. */
  async load(): Promise<void> {
    const all = await this.#o.store.all();
    // Swapped in at once: a call during a reload sees the old values or the new, never none.
    this.#cache.clear();
    for (const [fn, values] of all) this.#cache.set(fn, secretsOf(values));
  }

  /**
   * What `ctx.env` holds for a call of `fn` (frozen, the same object until it changes) and the
   * redactor for it; undefined when the function has none.
   */
  of(fn: string): FunctionSecrets | undefined {
    return this.#cache.get(fn);
  }

  entries(fn: string): Promise<EnvEntry[]> {
    this.#o.requireFunction(fn);
    return this.#o.store.entries(fn);
  }

  /** Sets and (with null) deletes values; every change is checked before any is applied. */
  async apply(fn: string, changes: unknown): Promise<EnvEntry[]> {
    this.#o.requireFunction(fn);
    const checked = checkEnvChanges(changes);
    const result = await this.#o.store.apply(fn, checked, this.#o.clock.now(), LIMITS);
    if (!result.ok) {
      if (result.entries > MAX_ENTRIES) throw new WispError('INVALID_ENV', `a function has at most ${MAX_ENTRIES} env values; this would make ${result.entries}`);
      throw new WispError('INVALID_ENV', `a function's env values may hold ${MAX_ENV_BYTES} bytes together; this would make ${result.bytes}`);
    }
    if (Object.keys(result.values).length === 0) this.#cache.delete(fn);
    else this.#cache.set(fn, secretsOf(result.values));
    this.#o.changed?.(fn);
    return this.#o.store.entries(fn);
  }

  async remove(fn: string, name: string): Promise<void> {
    this.#o.requireFunction(fn);
    if (!(name in (this.of(fn)?.values ?? {}))) throw new WispError('ENV_NOT_FOUND', `function "${fn}" has no env value named "${name}"`);
    await this.apply(fn, { [name]: null });
  }

  /** The function is gone: so are its values. */
  async forget(fn: string): Promise<void> {
    this.#cache.delete(fn);
    await this.#o.store.deleteAll(fn);
    this.#o.changed?.(fn);
  }
}

/** An env change set as sent by a client: `{NAME: "value" | null}`. Messages never quote a value. */
export function checkEnvChanges(changes: unknown): EnvChanges {
  if (typeof changes !== 'object' || changes === null || Array.isArray(changes)) {
    throw new WispError('INVALID_ENV', 'env must be an object of NAME: "value" (null deletes a value)');
  }
  for (const [name, value] of Object.entries(changes)) {
    if (!NAME.test(name)) throw new WispError('INVALID_ENV', `env name ${JSON.stringify(name.slice(0, 130))} must match ${NAME.source}`);
    if (value !== null && typeof value !== 'string') {
      throw new WispError('INVALID_ENV', `env value of ${name} must be a string (or null to delete it), got ${Array.isArray(value) ? 'an array' : typeof value}`);
    }
  }
  return changes as EnvChanges;
}
