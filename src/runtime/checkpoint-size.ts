// What an instance's state costs to checkpoint, estimated before v8.serialize runs. Serializing
// and restoring happen inside V8's C++ code, where running out of heap is not the worker's
// ERR_WORKER_OUT_OF_MEMORY but a fatal error that aborts the whole process (the gateway with it):
// flattening a long string built by concatenation, listing the keys of a large array, or
// rebuilding a state in a fresh thread all allocate in one C++ call. So the instance thread first
// walks the state in JavaScript (where running out of memory only ends the thread) and refuses a
// state past its limit before anything is copied.
//
// The estimate is close to what the state occupies in the heap, which bounds what serializing it
// allocates and what restoring it rebuilds: a string counts its length plus a header, a number,
// boolean or slot 8 bytes (24 for a number that is not a small integer, boxed when restored),
// binary data its byteLength, every property its key and slot. It is no less than the bytes
// v8.serialize writes for the same state, except for strings of characters past U+00FF (two bytes
// each), which the exact check after serializing catches. The walk stops as soon as the estimate
// passes the limit, so it costs at most in proportion to the limit.

const STRING_HEADER = 16;
const SLOT = 8;
const BOXED_NUMBER = 24;
const OBJECT_HEADER = 32;
/** Deeper than this the walk stops descending; v8.serialize itself runs out of stack not much deeper. */
const MAX_DEPTH = 5000;

const isSmall = (n: number) => Number.isInteger(n) && Math.abs(n) < 2 ** 30;

/** The estimate, or a number past `limit` as soon as the state is known to exceed it. */
export function stateSizeAtLeast(state: unknown, limit: number): number {
  let total = 0;
  // A second reference to an object is written as a back-reference, and restored as one.
  const seen = new Set<object>();
  const visit = (value: unknown, depth: number): void => {
    switch (typeof value) {
      case 'string':
        total += STRING_HEADER + value.length;
        return;
      case 'number':
        total += isSmall(value) ? SLOT : BOXED_NUMBER;
        return;
      case 'bigint':
        total += STRING_HEADER + Math.ceil(value.toString(16).length / 2);
        return;
      case 'object':
        break;
      default:
        // booleans and undefined; functions and symbols make v8.serialize throw its own error.
        total += SLOT;
        return;
    }
    if (value === null || seen.has(value)) {
      total += SLOT;
      return;
    }
    seen.add(value);
    total += OBJECT_HEADER;
    if (depth > MAX_DEPTH) return;
    if (value instanceof ArrayBuffer || ArrayBuffer.isView(value) || (typeof SharedArrayBuffer === 'function' && value instanceof SharedArrayBuffer)) {
      total += value.byteLength;
    } else if (value instanceof Date) {
      total += SLOT;
    } else if (value instanceof RegExp) {
      total += STRING_HEADER + value.source.length;
    } else if (value instanceof Map) {
      for (const [key, entry] of value) {
        if (total > limit) return;
        total += 2 * SLOT;
        visit(key, depth + 1);
        visit(entry, depth + 1);
      }
    } else if (value instanceof Set) {
      for (const entry of value) {
        if (total > limit) return;
        total += SLOT;
        visit(entry, depth + 1);
      }
    } else if (Array.isArray(value)) {
      // Every index up to the length costs a slot: serializing may list them all, holes included.
      total += SLOT * value.length;
      for (let i = 0; i < value.length && total <= limit; i++) {
        const element: unknown = value[i];
        // Small integers, booleans and holes, the usual bulk of a large array, are their slot.
        if ((typeof element === 'number' && isSmall(element)) || typeof element === 'boolean' || element === undefined || element === null) continue;
        if (typeof element === 'string') total += STRING_HEADER + element.length;
        else visit(element, depth + 1);
      }
    } else if (value instanceof Error) {
      total += 2 * STRING_HEADER + String(value.message).length + (typeof value.stack === 'string' ? value.stack.length : 0);
    } else {
      // What v8.serialize writes of any other object: its own enumerable string-keyed properties.
      const object = value as Record<string, unknown>;
      for (const key in object) {
        if (total > limit) return;
        if (!Object.hasOwn(object, key)) continue;
        total += STRING_HEADER + key.length + SLOT;
        visit(object[key], depth + 1);
      }
    }
  };
  visit(state, 0);
  return total;
}
