// A handler's or method's return value as the JSON text sent back, checked against the result
// limit. Shared by pool workers and instance threads.

/** The JSON text, or the error that says why the value cannot be sent back. */
export function resultJson(value: unknown, limitBytes: number): { ok: true; json: string } | { ok: false; error: Error } {
  let json: string | undefined;
  try {
    json = JSON.stringify(value);
  } catch (err) {
    return { ok: false, error: new TypeError(`the result is not JSON-serializable: ${(err as Error).message}`) };
  }
  json ??= 'null';
  // Counting bytes costs a pass over the text; a string under a third of the limit cannot be over.
  if (json.length > limitBytes / 3 && Buffer.byteLength(json) > limitBytes) {
    const error = Object.assign(new RangeError(`the result is ${Buffer.byteLength(json)} bytes; the limit is ${limitBytes}`), { code: 'RESULT_TOO_LARGE' });
    return { ok: false, error };
  }
  return { ok: true, json };
}
