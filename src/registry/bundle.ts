// Turns an uploaded module (one source file, or a directory with node_modules) into one
// self-contained CommonJS file with an inline source map. CommonJS because workers compile it
// without the ESM module map, so evicted versions can be garbage-collected (runtime/module-loader.ts).
import { relative, isAbsolute } from 'node:path';
import { build, type BuildFailure, type BuildOptions, type Message, type Plugin } from 'esbuild';
import { WispError } from '../errors.js';

export type SourceLanguage = 'ts' | 'js';

const COMMON: BuildOptions = {
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  write: false,
  sourcemap: 'inline',
  sourcesContent: false,
  legalComments: 'none',
  logLevel: 'silent',
};

const HINTS: [RegExp, string][] = [
  [/Top-level await/, ' (move the await into the handler or a lazily awaited promise)'],
  [/Could not resolve "\.{0,2}\//, ' (a single-file upload cannot import other files: upload a zip or tar.gz archive)'],
  [/Could not resolve/, ' (upload a zip or tar.gz archive that includes node_modules)'],
];

function toInvalidFunction(failure: BuildFailure): WispError {
  const first: Message | undefined = failure.errors[0];
  if (!first) return new WispError('INVALID_FUNCTION', failure.message);
  const hint = HINTS.find(([pattern]) => pattern.test(first.text))?.[1] ?? '';
  const where = first.location;
  const extra = failure.errors.length > 1 ? ` (and ${failure.errors.length - 1} more errors)` : '';
  if (!where) return new WispError('INVALID_FUNCTION', `${first.text}${hint}${extra}`);
  const detail = `${where.file}:${where.line}:${where.column + 1}: ${first.text}${hint}${extra}`;
  // Columns are 1-based for people; esbuild counts from 0.
  return new WispError('INVALID_FUNCTION', detail, { file: where.file, line: where.line, column: where.column + 1 });
}

const RESOLVING = Symbol('confined');

/**
 * esbuild looks for node_modules in every parent directory, as Node does: an upload unpacked
 * under the data dir would find Wisp's own packages (or whatever sits above it) and deploy as if
 * it had shipped them. Imports must resolve inside the upload; anything else is not found.
 */
function confinedTo(root: string): Plugin {
  return {
    name: 'wisp-confine-imports',
    setup(build) {
      build.onResolve({ filter: /^[^./]/ }, async (args) => {
        if (args.pluginData === RESOLVING) return undefined;
        const found = await build.resolve(args.path, { kind: args.kind, resolveDir: args.resolveDir, importer: args.importer, pluginData: RESOLVING });
        if (found.errors.length > 0 || found.external || !found.path) return found;
        const inside = relative(root, found.path);
        if (inside.startsWith('..') || isAbsolute(inside)) return { errors: [{ text: `Could not resolve "${args.path}"` }] };
        return found;
      });
    },
  };
}

async function bundle(options: BuildOptions & { absWorkingDir: string }): Promise<Buffer> {
  try {
    const result = await build({ ...COMMON, ...options, plugins: [confinedTo(options.absWorkingDir)] });
    return Buffer.from(result.outputFiles![0]!.contents);
  } catch (err) {
    if ((err as BuildFailure).errors) throw toInvalidFunction(err as BuildFailure);
    throw err;
  }
}

/**
 * Bundles a single uploaded file. `isolatedDir` must be an empty directory: imports resolve
 * from there, so nothing on the server (Wisp's own node_modules) leaks into the bundle.
 */
export function bundleSource(source: string, filename: string, language: SourceLanguage, isolatedDir: string): Promise<Buffer> {
  return bundle({
    stdin: { contents: source, loader: language, sourcefile: filename, resolveDir: isolatedDir },
    absWorkingDir: isolatedDir,
  });
}

/** Bundles an extracted archive from its entry file (relative to `dir`). */
export function bundleDirectory(dir: string, entry: string): Promise<Buffer> {
  return bundle({ entryPoints: [entry], absWorkingDir: dir, outfile: 'bundle.js' });
}
