/**
 * A result kept as the JSON text the worker sent, parsed only when someone reads it: most
 * synchronous results are never read back, and parsing a large one on the hot path is waste.
 */
export class JsonText {
  readonly text: string;

  constructor(text: string) {
    this.text = text;
  }

  /** JSON.stringify() of a record holding this writes the value, not the wrapper. */
  toJSON(): unknown {
    return JSON.parse(this.text);
  }
}

/** A record's result as a plain value. */
export const plainResult = (result: unknown): unknown => (result instanceof JsonText ? result.toJSON() : result);
