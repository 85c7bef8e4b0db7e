// A lower bound of a value's JSON size in bytes, found without building the JSON. It lets Wisp
// refuse a result, an input or a record that is too large before copying it: JSON.stringify of a
// 50 MB string inside a 128 MB worker, or Buffer.byteLength of the text, is a V8 allocation that
// can abort the whole process (see README "Containment"), not just the worker.
//
// The bound never overestimates (a string of n UTF-16 units is at least n UTF-8 bytes), so a
// value under the limit is never refused; the walk stops as soon as the bound passes the limit,
// so its cost is at most proportional to the limit, whatever the value holds.

/** Walks at most this deep; JSON.stringify itself refuses what is deeper (or cyclic). */
const MAX_DEPTH = 200;

/**
 * The lower bound, or `limit + 1` as soon as it is known to pass `limit`. Getters and toJSON
 * methods other than Date's run here as they will in JSON.stringify.
 */
export function jsonSizeAtLeast(value: unknown, limit: number): number {
  let total = 0;
  // The objects on the path to the one visited: a cycle is JSON.stringify's to refuse (with
  // its own error), not a size to count until the limit. A stack, not a Set: paths are short,
  // and most values walked are a few fields, where a Set per call would cost more than the walk.
  const ancestors: object[] = [];
  const visit = (v: unknown, depth: number): void => {
    if (total > limit) return;
    switch (typeof v) {
      case 'string':
        total += v.length + 2;
        return;
      case 'number':
      case 'boolean':
      case 'bigint':
        total += 1;
        return;
      case 'object':
        break;
      default:
        // undefined, functions and symbols are left out (or become null in arrays).
        return;
    }
    if (v === null) {
      total += 4;
      return;
    }
    if (depth > MAX_DEPTH || ancestors.includes(v)) return;
    if (ArrayBuffer.isView(v)) {
      // A Buffer becomes {"type":"Buffer","data":[…]}, a typed array {"0":…}: two bytes or more
      // an element. Counted without calling Buffer#toJSON, which would build that array.
      total += 2 * v.byteLength;
      return;
    }
    if (v instanceof Date) {
      total += 26;
      return;
    }
    const object = v as Record<string, unknown>;
    if (typeof object.toJSON === 'function') {
      ancestors.push(object);
      visit((object.toJSON as (key: string) => unknown)(''), depth + 1);
      ancestors.pop();
      return;
    }
    total += 2;
    ancestors.push(object);
    if (Array.isArray(v)) {
      for (let i = 0; i < v.length && total <= limit; i++) {
        total += 1;
        visit(v[i], depth + 1);
      }
    } else {
      for (const key in object) {
        if (total > limit) break;
        if (!Object.hasOwn(object, key)) continue;
        total += key.length + 4;
        visit(object[key], depth + 1);
      }
    }
    ancestors.pop();
  };
  visit(value, 0);
  return total > limit ? limit + 1 : total;
}
