// A function's secrets (`ctx.env`): set at deploy or through /v1/functions/{name}/env, handed to
// its calls, and never answered back. Values are cached per function because every call reads them.
import { isoNow, type Clock } from '../common/clock.js';
import { secretsOf, type FunctionSecrets } from '../common/secret-redaction.js';
import { WispError } from '../errors.js';
import type { EnvEntry, EnvStore } from '../store/env-store.js';

/** Like a shell variable, so that code ported from process.env keeps its names. */
const NAME = /^[A-Za-z_][A-Za-z0-9_]{0,127}$/;
const MAX_ENTRIES = 100;
/** All values of one function together (AWS Lambda allows 4 KB; certificates need more). */
export const MAX_ENV_BYTES = 64 * 1024;

export type EnvChanges = Readonly<Record<string, string | null>>;


export interface FunctionEnvOptions {
  store: EnvStore;
  /** Throws FUNCTION_NOT_FOUND for a function that does not exist. */
  requireFunction: (name: string) => void;
  clock: Clock;
}

export class FunctionEnv {
  readonly #o: FunctionEnvOptions;
  /** null: looked up, and the function has none. */
  readonly #cache = new Map<string, FunctionSecrets | null>();

  constructor(options: FunctionEnvOptions) {
    this.#o = options;
  }

  /**
   * What `ctx.env` holds for a call of `fn` (frozen, the same object until it changes) and the
   * redactor for it; undefined when the function has none.
   */
  of(fn: string): FunctionSecrets | undefined {
    let secrets = this.#cache.get(fn);
    if (secrets === undefined) {
      const values = this.#o.store.values(fn);
      secrets = Object.keys(values).length === 0 ? null : secretsOf(values);
      this.#cache.set(fn, secrets);
    }
    return secrets ?? undefined;
  }

  entries(fn: string): EnvEntry[] {
    this.#o.requireFunction(fn);
    return this.#o.store.entries(fn);
  }

  /** Sets and (with null) deletes values; every change is checked before any is applied. */
  apply(fn: string, changes: unknown): EnvEntry[] {
    this.#o.requireFunction(fn);
    const checked = checkEnvChanges(changes);
    const next = { ...this.of(fn)?.values };
    for (const [name, value] of Object.entries(checked)) {
      if (value === null) delete next[name];
      else next[name] = value;
    }
    checkTotals(next);
    this.#o.store.apply(fn, checked, isoNow(this.#o.clock));
    this.#cache.delete(fn);
    return this.#o.store.entries(fn);
  }

  remove(fn: string, name: string): void {
    this.#o.requireFunction(fn);
    if (!(name in (this.of(fn)?.values ?? {}))) throw new WispError('ENV_NOT_FOUND', `function "${fn}" has no env value named "${name}"`);
    this.apply(fn, { [name]: null });
  }

  /** The function is gone (its rows went with it): drop what is cached. */
  forget(fn: string): void {
    this.#cache.delete(fn);
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

function checkTotals(env: Record<string, string>): void {
  const names = Object.keys(env);
  if (names.length > MAX_ENTRIES) throw new WispError('INVALID_ENV', `a function has at most ${MAX_ENTRIES} env values; this would make ${names.length}`);
  const bytes = names.reduce((sum, name) => sum + Buffer.byteLength(name) + Buffer.byteLength(env[name]!), 0);
  if (bytes > MAX_ENV_BYTES) throw new WispError('INVALID_ENV', `a function's env values may hold ${MAX_ENV_BYTES} bytes together; this would make ${bytes}`);
}
