// What zip and tar.gz unpacking share: where an entry may land, and how a bad archive is reported.
import { isAbsolute, join, normalize, sep } from 'node:path';
import { cutText, WispError } from '../errors.js';

export const invalid = (detail: string, cause?: unknown): WispError =>
  new WispError('INVALID_ARCHIVE', detail, {}, cause === undefined ? undefined : { cause });

export const tooLarge = (maxBytes: number): WispError => invalid(`the archive unpacks to more than ${maxBytes} bytes`);

/** An entry name as a problem detail shows it: names are the uploader's text, of any length. */
export const shown = (name: string): string => JSON.stringify(cutText(name, 200));

/** A path inside the archive, or undefined for one that would land outside the target dir. */
export function safeRelative(name: string): string | undefined {
  const clean = normalize(name);
  if (isAbsolute(clean) || clean === '..' || clean.startsWith(`..${sep}`)) return undefined;
  return clean;
}

/** Where entry `name` is written under `dir`; an absolute or climbing name is the archive's fault. */
export function entryTarget(dir: string, name: string): string {
  if (name.includes('\0')) throw invalid(`the archive entry ${shown(name)} has a NUL character in its name`);
  const relative = safeRelative(name);
  if (relative === undefined) throw invalid(`the archive entry ${shown(name)} points outside the archive`);
  return join(dir, relative);
}

/** A write that fails because of the archive's own layout (a file where a folder must go) is its fault. */
export function writeFailure(name: string, err: unknown): Error {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'ENOTDIR' || code === 'EISDIR' || code === 'EEXIST' || code === 'ENAMETOOLONG') {
    return invalid(`the archive entry ${shown(name)} cannot be written (${code}): a file and a folder share a name, or the name is too long`, err);
  }
  return err instanceof Error ? err : new Error(String(err));
}
