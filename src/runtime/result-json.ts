// A handler's or method's return value as the JSON text sent back, checked against the result
// limit before the text is built. Shared by pool workers and instance threads.
import { jsonSizeAtLeast } from './json-size.js';

// Taken when the thread starts, before user code: a function that replaces JSON.stringify must
// not make Wisp send its own results as something other than JSON.
const stringify = JSON.stringify;

function tooLarge(message: string): { ok: false; error: Error } {
  const error = Object.assign(new RangeError(message), { code: 'RESULT_TOO_LARGE' });
  return { ok: false, error };
}

/** The JSON text, or the error that says why the value cannot be sent back. */
export function resultJson(value: unknown, limitBytes: number): { ok: true; json: string } | { ok: false; error: Error } {
  // Measured first: building the text of a value far over the limit could exhaust the heap.
  if (jsonSizeAtLeast(value, limitBytes) > limitBytes) return tooLarge(`the result is larger than allowed: the limit is ${limitBytes} bytes (limits.resultBytes)`);
  let json: string | undefined;
  try {
    json = stringify(value);
  } catch (err) {
    return { ok: false, error: new TypeError(`the result is not JSON-serializable: ${(err as Error).message}`) };
  }
  json ??= 'null';
  // Counting bytes costs a pass over the text; a string under a third of the limit cannot be over.
  if (json.length > limitBytes / 3) {
    const bytes = Buffer.byteLength(json);
    if (bytes > limitBytes) return tooLarge(`the result is ${bytes} bytes; the limit is ${limitBytes} bytes (limits.resultBytes)`);
  }
  return { ok: true, json };
}
