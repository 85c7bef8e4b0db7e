// Unpacks a tar.gz. node:zlib inflates it asynchronously, off the event loop, and every inflated
// byte is counted, so a bomb is stopped at the limit instead of inflated whole; tar's parser reads
// the entries, and only plain files and folders are written, by this module, under the target dir.
import { createWriteStream } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import { Parser, type ReadEntry } from 'tar';
import { WispError } from '../errors.js';
import { entryTarget, invalid, tooLarge, writeFailure } from './archive-entry.js';

const unreadable = (err: unknown): WispError => invalid(`not a readable tar.gz: ${(err as Error).message}`, err);

/** Links could point anywhere on this machine; devices and FIFOs have no place in a function. */
const WRITTEN_TYPES = new Set(['File', 'OldFile', 'ContiguousFile', 'Directory']);

export async function extractTarGz(bytes: Uint8Array, dir: string, maxBytes: number): Promise<void> {
  let failure: Error | undefined;
  let declared = 0;
  let inflated = 0;
  let sawEnd = false;
  let writing: ReadEntry | undefined;
  let writes: Promise<void> = Promise.resolve();
  const dirs = new Set<string>();

  // zstd off: tar's own decompressors are synchronous, so only node:zlib may inflate.
  const parser = new Parser({
    strict: true,
    zstd: false,
    filter: (path, entry) => {
      if (failure) return false;
      try {
        entryTarget(dir, path);
      } catch (err) {
        fail(err as WispError);
        return false;
      }
      const { size = 0, type } = entry as ReadEntry;
      declared += size;
      if (declared > maxBytes) fail(tooLarge(maxBytes));
      return !failure && WRITTEN_TYPES.has(type);
    },
  });
  // Stops everything once: the parser reads no further and the entry being written is let go.
  const fail = (err: Error): void => {
    if (failure) return;
    failure = err;
    writing?.destroy(err); // with an error: Minipass emits no 'close' without one
    parser.abort(new Error(err.message));
  };
  const makeDir = async (path: string): Promise<void> => {
    if (dirs.has(path)) return;
    await mkdir(path, { recursive: true });
    dirs.add(path);
  };
  const unpackEntry = async (entry: ReadEntry): Promise<void> => {
    if (failure) return void entry.resume();
    const target = entryTarget(dir, entry.path);
    try {
      if (entry.type === 'Directory') {
        entry.resume();
        return await makeDir(target);
      }
      await makeDir(dirname(target));
      writing = entry;
      await pipeline(entry, createWriteStream(target));
    } catch (err) {
      fail(writeFailure(entry.path, err));
    } finally {
      writing = undefined;
    }
  };
  // Errors while parsing reach the pipeline; one raised by a write after parsing has ended has
  // no one else to go to, and is already recorded as the failure.
  parser.on('error', () => {});
  // One entry at a time: a later entry of the same name replaces an earlier one, as tar does.
  parser.on('entry', (entry: ReadEntry) => {
    writes = writes.then(() => unpackEntry(entry));
  });
  // Data after the end-of-archive blocks is counted but not handed to the parser, which would
  // copy its whole buffer again for every chunk of it.
  parser.on('eof', () => {
    sawEnd = true;
  });
  const counter = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      if (inflated === 0 && chunk[0] === 0x1f && chunk[1] === 0x8b) {
        fail(invalid('the archive is a gzip inside a gzip: compress the tar once (tar -czf)'));
      }
      inflated += chunk.length;
      if (inflated > maxBytes) fail(tooLarge(maxBytes));
      if (failure) return done(failure);
      done(null, sawEnd ? undefined : chunk);
    },
  });

  // The parser is no stream that a pipeline can destroy: a gzip error must abort it here, or the
  // pipeline would wait for it forever.
  const gunzip = createGunzip().on('error', (err) => fail(unreadable(err)));
  try {
    await pipeline(Readable.from([bytes]), gunzip, counter, parser);
  } catch (err) {
    fail(err instanceof WispError ? err : unreadable(err));
  }
  await writes;
  if (failure) throw failure;
}
