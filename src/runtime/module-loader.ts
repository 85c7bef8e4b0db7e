// Loads bundled function code inside a worker. Bundles are CommonJS (see registry/bundle.ts),
// compiled with vm.compileFunction and kept nowhere but the LRU cache below: once it drops a
// module, V8 can collect it. ESM import() would keep every version ever loaded in the module map
// for the life of the thread, and so would Module#_compile with source maps enabled.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { compileFunction } from 'node:vm';
import { LRUCache } from 'lru-cache';
import type { CodeRef, LoadReport } from './protocol.js';
import { StackMapper } from './stack-mapper.js';

export interface LoadedModule {
  exports: Record<string, unknown>;
  report: LoadReport;
  /** The cache's cost measure: known before the module runs and close to what it holds. */
  sourceBytes: number;
  stacks: StackMapper;
}

const CJS_PARAMETERS = ['exports', 'require', 'module', '__filename', '__dirname'];

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

/** Compiles and runs a bundle; the caller keeps the result (or a cache does, below). */
export function loadModule(code: CodeRef): LoadedModule {
  // The file name shows up in unmapped frames; the label says which function it was.
  return runBundle(readFileSync(code.codePath, 'utf8'), join(dirname(code.codePath), `${code.label}.js`));
}

/**
 * Runs a tiny module through loadModule's steps, so that a thread booted ahead of need has
 * already compiled them (V8 compiles a function when it is first called): a warm instance
 * thread's init measured ~0.3 ms faster (1.3 against 1.6 ms; see bench/README.md, issue 22).
 */
export function warmUpLoader(): void {
  runBundle('class WarmUp { constructor(n) { this.n = n; } }\nexports.WarmUp = WarmUp;\n', '/wisp-warm-up.js');
}

function runBundle(source: string, filename: string): LoadedModule {
  const stacks = new StackMapper(source, filename);
  const module = { exports: {} as Record<string, unknown> };
  try {
    const wrapper = compileFunction(source, CJS_PARAMETERS, { filename });
    wrapper.call(module.exports, module.exports, createRequire(filename), module, filename, dirname(filename));
  } catch (err) {
    if (err instanceof Error && err.stack) err.stack = stacks.map(err.stack);
    throw err;
  }
  return { exports: module.exports, report: describe(module.exports), sourceBytes: Buffer.byteLength(source), stacks };
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
    const loaded = loadModule(code);
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
