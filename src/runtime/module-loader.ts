// Loads bundled function code inside a worker. Bundles are CommonJS (see registry/bundle.ts) and
// compiled through Module#_compile without entering require.cache: once the LRU cache below
// drops a module, nothing else references it and V8 can collect it. ESM import() would keep
// every version ever loaded in the module map for the life of the thread.
import { readFileSync } from 'node:fs';
import { Module } from 'node:module';
import { dirname, join } from 'node:path';
import { LRUCache } from 'lru-cache';
import type { CodeRef, LoadReport } from './protocol.js';

export interface LoadedModule {
  exports: Record<string, unknown>;
  report: LoadReport;
  /** The cache's cost measure: known before the module runs and close to what it holds. */
  sourceBytes: number;
}

type CompilableModule = Module & { _compile(source: string, filename: string): void };

const CLASS_SOURCE = /^class[\s{]/;

const isClass = (value: unknown): value is new (...args: unknown[]) => unknown =>
  typeof value === 'function' && CLASS_SOURCE.test(Function.prototype.toString.call(value));

function describe(exports: Record<string, unknown>): LoadReport {
  const main = exports.default;
  const handler = typeof main === 'function' && !isClass(main);
  const fetch = typeof main === 'object' && main !== null && typeof (main as { fetch?: unknown }).fetch === 'function';
  const classes = Object.keys(exports).filter((key) => key !== 'default' && isClass(exports[key]));
  return { exports: { handler, fetch, classes }, config: exports.config ?? null };
}

function compile(code: CodeRef): LoadedModule {
  const source = readFileSync(code.codePath, 'utf8');
  // The file name shows up in stack traces; the label says which function and version it was.
  const filename = join(dirname(code.codePath), `${code.label}.js`);
  const mod = new Module(filename) as CompilableModule;
  mod.filename = filename;
  mod.paths = [];
  mod._compile(source, filename);
  const exports = mod.exports as Record<string, unknown>;
  return { exports, report: describe(exports), sourceBytes: Buffer.byteLength(source) };
}

export class ModuleCache {
  readonly #cache: LRUCache<string, LoadedModule>;

  constructor(maxEntries: number, maxBytes: number) {
    this.#cache = new LRUCache<string, LoadedModule>({
      max: maxEntries,
      maxSize: maxBytes,
      sizeCalculation: (loaded) => Math.max(1, loaded.sourceBytes),
    });
  }

  get(code: CodeRef): LoadedModule {
    const hit = this.#cache.get(code.digest);
    if (hit) return hit;
    const loaded = compile(code);
    this.#cache.set(code.digest, loaded);
    return loaded;
  }

  get size(): number {
    return this.#cache.size;
  }

  get calculatedSize(): number {
    return this.#cache.calculatedSize;
  }
}
