// Whether code run on this thread changed a global or a built-in: `Object.prototype.x = …`,
// `JSON.stringify = …`, a new global variable. Functions share pool threads, so such a change
// would reach every function loaded after it; the pool worker checks after each task and retires
// a thread whose built-ins changed (see worker-entry.ts). Separate realms per function would
// avoid the check, but break `instanceof` between a function's values and Node's own (Response,
// Buffer, Error), which user code and libraries rely on.
//
// What is compared is in compile() below. Accessors are not compared: Node defines some globals
// as lazy getters that replace themselves on first use.

function watchedObjects(): [object, string][] {
  const g = globalThis as Record<string, unknown>;
  const pairs: [object, string][] = [[globalThis, 'globalThis']];
  const constructors = [
    'Object', 'Function', 'Array', 'String', 'Number', 'Boolean', 'Symbol', 'BigInt', 'Date', 'RegExp',
    'Error', 'TypeError', 'RangeError', 'SyntaxError', 'Promise', 'Map', 'Set', 'WeakMap', 'WeakSet',
    'ArrayBuffer', 'DataView', 'Uint8Array', 'Buffer', 'URL', 'URLSearchParams', 'Request', 'Response',
    'Headers', 'TextEncoder', 'TextDecoder', 'AbortController', 'AbortSignal', 'EventTarget',
  ];
  for (const name of constructors) {
    const ctor = g[name];
    if (typeof ctor !== 'function') continue;
    pairs.push([ctor, name]);
    const prototype = (ctor as { prototype?: unknown }).prototype;
    if (typeof prototype === 'object' && prototype !== null) pairs.push([prototype, `${name}.prototype`]);
  }
  // %TypedArray%, the shared parent of every typed array, and the namespaces.
  const typedArray = Object.getPrototypeOf(Uint8Array) as { prototype: object };
  pairs.push([typedArray, 'TypedArray'], [typedArray.prototype, 'TypedArray.prototype']);
  for (const name of ['JSON', 'Math', 'Reflect', 'console']) {
    const namespace = g[name];
    if (typeof namespace === 'object' && namespace !== null) pairs.push([namespace, name]);
  }
  return pairs;
}

/**
 * The check, compiled once into straight-line code: each property read has its own site, so
 * each is a monomorphic inline cache (~1 ns) where a loop over [object, key] pairs would be one
 * megamorphic site (~40 ns a read; ~50 µs a check over these objects). It returns the index of
 * the first changed entry, or -1.
 *
 * Values: every own data property that can change (writable or configurable). Additions: the
 * count of own enumerable keys — what `Object.prototype.x = …` and a new global add. A property
 * added with Object.defineProperty as non-enumerable is not seen; counting every own key
 * (Reflect.ownKeys) would see it, at ~15 µs a check.
 */
function compile(watched: [object, string][]): { check: () => number; describe: (index: number) => string } {
  const objects: object[] = [];
  const keys: PropertyKey[] = [];
  const values: unknown[] = [];
  const what: string[] = [];
  const counts: number[] = [];
  let prelude = '';
  let body = '';
  watched.forEach(([object, label], i) => {
    objects.push(object);
    prelude += `const o${i} = objects[${i}];\n`;
    for (const key of Reflect.ownKeys(object)) {
      const descriptor = Reflect.getOwnPropertyDescriptor(object, key)!;
      if (!('value' in descriptor) || (!descriptor.writable && !descriptor.configurable)) continue;
      const n = values.length;
      keys.push(key);
      values.push(descriptor.value);
      what.push(`${label}.${String(key)} (replaced)`);
      const access = typeof key === 'string' && /^[A-Za-z_$][\w$]*$/.test(key) ? `.${key}` : `[keys[${n}]]`;
      // NaN is the one value not equal to itself.
      body += Number.isNaN(descriptor.value) ? `if (!Number.isNaN(o${i}${access})) return ${n};\n` : `if (o${i}${access} !== values[${n}]) return ${n};\n`;
    }
  });
  watched.forEach(([object, label], i) => {
    counts.push(Object.keys(object).length);
    const n = values.length + i;
    what.push(`${label} (a property added or removed)`);
    body += `if (Object.keys(o${i}).length !== counts[${i}]) return ${n};\n`;
  });
  const factory = new Function('objects', 'keys', 'values', 'counts', `${prelude}return function check() {\n${body}return -1;\n};`) as (
    ...args: unknown[]
  ) => () => number;
  return { check: factory(objects, keys, values, counts), describe: (index) => what[index] ?? 'a built-in' };
}

export class IntrinsicsFingerprint {
  readonly #compiled: ReturnType<typeof compile>;

  /** Takes the fingerprint of the built-ins as they are now: after Wisp's own changes (console). */
  constructor() {
    this.#compiled = compile(watchedObjects());
  }

  /** The first changed built-in, e.g. "Object.prototype (a property added or removed)", or undefined. */
  changed(): string | undefined {
    const index = this.#compiled.check();
    return index === -1 ? undefined : this.#compiled.describe(index);
  }
}
