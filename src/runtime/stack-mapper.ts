// Maps stack frames in bundled code back to the uploaded sources, using the bundle's inline
// source map. Node's own source-map support (process.setSourceMapsEnabled) is not used: it keeps
// every compiled module's map, and the module with it, for the life of the thread.
import { SourceMap } from 'node:module';

const INLINE_MAP = /\n\/\/# sourceMappingURL=data:application\/json;base64,([A-Za-z0-9+/=]+)\s*$/;

export class StackMapper {
  readonly #source: string;
  readonly #filename: string;
  /** The parsed map and a matcher for this bundle's "filename:LINE:COL" frames, built together. */
  #parsed: { map: SourceMap; frame: RegExp } | null | undefined;

  constructor(source: string, filename: string) {
    this.#source = source;
    this.#filename = filename;
  }

  /** Rewrites "bundle.js:LINE:COL" frames to "original.ts:LINE:COL"; other frames pass. */
  map(stack: string): string {
    const parsed = this.#parse();
    if (!parsed) return stack;
    const { map, frame } = parsed;
    return stack.replace(frame, (whole, line: string, column: string) => {
      const entry = map.findEntry(Number(line) - 1, Number(column) - 1) as {
        originalSource?: string;
        originalLine?: number;
        originalColumn?: number;
      };
      if (entry.originalSource === undefined || entry.originalLine === undefined || entry.originalColumn === undefined) return whole;
      const source = entry.originalSource.replace(/^file:\/\//, '');
      return `${source}:${entry.originalLine + 1}:${entry.originalColumn + 1}`;
    });
  }

  // Parsed on the first error only: most modules never throw.
  #parse(): { map: SourceMap; frame: RegExp } | null {
    if (this.#parsed === undefined) {
      const match = INLINE_MAP.exec(this.#source);
      try {
        this.#parsed = match
          ? {
              map: new SourceMap(JSON.parse(Buffer.from(match[1]!, 'base64').toString('utf8'))),
              frame: new RegExp(`${this.#filename.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:(\\d+):(\\d+)`, 'g'),
            }
          : null;
      } catch {
        this.#parsed = null;
      }
    }
    return this.#parsed;
  }
}
