// Whether code run on this thread changed a global or a built-in: `Object.prototype.x = …`,
// `JSON.stringify = …`, a new global variable. Functions share pool threads, so such a change
// would reach every function loaded after it; the pool worker checks after each task and retires
// a thread whose built-ins changed (see worker-entry.ts). Separate realms per function would
// avoid the check, but break `instanceof` between a function's values and Node's own (Response,
// Buffer, Error), which user code and libraries rely on.
//
// What is compared: each watched object's count of own keys (an added or deleted property) and
// the value of each own data property (a replaced method). Accessors are not compared: Node
// defines some globals as lazy getters that replace themselves on first use.

type Watched = { object: object; label: string; keyCount: number; keys: PropertyKey[]; values: unknown[] };

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

function snapshot(object: object, label: string): Watched {
  const keys: PropertyKey[] = [];
  const values: unknown[] = [];
  const own = Reflect.ownKeys(object);
  for (const key of own) {
    const descriptor = Reflect.getOwnPropertyDescriptor(object, key)!;
    if (!('value' in descriptor)) continue;
    keys.push(key);
    values.push(descriptor.value);
  }
  return { object, label, keyCount: own.length, keys, values };
}

export class IntrinsicsFingerprint {
  readonly #watched: Watched[];

  /** Takes the fingerprint of the built-ins as they are now: after Wisp's own changes (console). */
  constructor() {
    this.#watched = watchedObjects().map(([object, label]) => snapshot(object, label));
  }

  /** The first changed built-in, e.g. "Object.prototype (a property added or removed)", or undefined. */
  changed(): string | undefined {
    for (const watched of this.#watched) {
      const { object, keys, values } = watched;
      for (let i = 0; i < keys.length; i++) {
        if (!Object.is((object as Record<PropertyKey, unknown>)[keys[i]!], values[i])) return `${watched.label}.${String(keys[i])} (replaced)`;
      }
      if (Reflect.ownKeys(object).length !== watched.keyCount) return `${watched.label} (a property added or removed)`;
    }
    return undefined;
  }
}
