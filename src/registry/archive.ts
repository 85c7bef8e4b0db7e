// Unpacks an uploaded zip or tar.gz into a directory and finds the module to bundle.
import { mkdir, readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { WispError } from '../errors.js';
import { safeRelative } from './archive-entry.js';
import { extractTarGz } from './tar-archive.js';
import { extractZip } from './zip-archive.js';

export type ArchiveFormat = 'zip' | 'tgz';

const ENTRY_CANDIDATES = ['index.ts', 'index.mts', 'index.js', 'index.mjs', 'index.cjs'];

/** Recognises an archive by its first bytes, whatever content type it was sent with. */
export function sniffArchive(bytes: Uint8Array): ArchiveFormat | undefined {
  if (bytes[0] === 0x50 && bytes[1] === 0x4b && bytes[2] === 0x03 && bytes[3] === 0x04) return 'zip';
  if (bytes[0] === 0x1f && bytes[1] === 0x8b) return 'tgz';
  return undefined;
}

/** The directory holding the module: the root, or its only folder (archives of a folder). */
async function moduleRoot(dir: string): Promise<string> {
  const entries = (await readdir(dir, { withFileTypes: true })).filter((e) => e.name !== '__MACOSX');
  const only = entries[0];
  if (entries.length === 1 && only?.isDirectory() && only.name !== 'node_modules') return join(dir, only.name);
  return dir;
}

async function isFile(path: string): Promise<boolean> {
  return stat(path).then((s) => s.isFile(), () => false);
}

async function findEntry(root: string): Promise<string> {
  if (await isFile(join(root, 'package.json'))) {
    let main: unknown;
    try {
      main = (JSON.parse(await readFile(join(root, 'package.json'), 'utf8')) as { main?: unknown }).main;
    } catch (err) {
      throw new WispError('INVALID_FUNCTION', `package.json is not valid JSON: ${(err as Error).message}`);
    }
    if (typeof main === 'string') {
      const relative = safeRelative(main);
      if (relative && (await isFile(join(root, relative)))) return `./${relative}`;
      throw new WispError('INVALID_FUNCTION', `package.json names main "${main}", which is not a file in the archive`);
    }
  }
  for (const candidate of ENTRY_CANDIDATES) {
    if (await isFile(join(root, candidate))) return `./${candidate}`;
  }
  throw new WispError('INVALID_FUNCTION', `the archive has no entry module: add ${ENTRY_CANDIDATES.join(', ')} or set "main" in package.json`);
}

/** Unpacks into `dir` (created if missing) and returns the module root and entry. */
export async function unpackArchive(
  bytes: Uint8Array,
  format: ArchiveFormat,
  dir: string,
  maxBytes: number,
): Promise<{ root: string; entry: string }> {
  await mkdir(dir, { recursive: true });
  await (format === 'zip' ? extractZip(bytes, dir, maxBytes) : extractTarGz(bytes, dir, maxBytes));
  const root = await moduleRoot(dir);
  return { root, entry: await findEntry(root) };
}
