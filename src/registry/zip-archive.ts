// Unpacks a zip. The central directory says where each entry is and how big it claims to be;
// each entry is inflated by node:zlib's asynchronous stream, off the event loop, and stopped at
// the size its header declares, so a header that lies cannot unpack past the archive's limit.
import { createWriteStream } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { promisify } from 'node:util';
import { createInflateRaw, inflateRaw } from 'node:zlib';
import { WispError } from '../errors.js';
import { entryTarget, invalid, shown, tooLarge, writeFailure } from './archive-entry.js';

interface ZipEntry {
  name: string;
  flags: number;
  method: number;
  compressedSize: number;
  size: number;
  localOffset: number;
}

const unreadable = (why: string): WispError => invalid(`not a readable zip: ${why}`);
const damaged = (entry: ZipEntry, bytes: number): WispError =>
  invalid(`the archive entry ${shown(entry.name)} is damaged: it unpacks to ${bytes} bytes, its header declares ${entry.size}`);

function need(buf: Buffer, at: number, length: number): void {
  if (at < 0 || at + length > buf.length) throw unreadable('it is truncated');
}

function u64(buf: Buffer, at: number): number {
  need(buf, at, 8);
  const value = buf.readBigUInt64LE(at);
  if (value > BigInt(Number.MAX_SAFE_INTEGER)) throw unreadable('a size or offset is out of range');
  return Number(value);
}

function endRecord(buf: Buffer): number {
  for (let at = buf.length - 22; at >= 0 && at >= buf.length - 22 - 0xffff; at--) {
    if (buf.readUInt32LE(at) === 0x06054b50) return at;
  }
  throw unreadable('it has no end of central directory record');
}

function* centralDirectory(buf: Buffer): Generator<ZipEntry> {
  const end = endRecord(buf);
  let count = buf.readUInt16LE(end + 10);
  let at = buf.readUInt32LE(end + 16);
  if (count === 0xffff || at === 0xffffffff) {
    need(buf, end - 20, 20);
    if (buf.readUInt32LE(end - 20) !== 0x07064b50) throw unreadable('its zip64 locator is missing');
    const zip64 = u64(buf, end - 12);
    need(buf, zip64, 56);
    if (buf.readUInt32LE(zip64) !== 0x06064b50) throw unreadable('its zip64 end record is missing');
    count = u64(buf, zip64 + 32);
    at = u64(buf, zip64 + 48);
  }
  for (let n = 0; n < count; n++) {
    need(buf, at, 46);
    if (buf.readUInt32LE(at) !== 0x02014b50) throw unreadable('its central directory is damaged');
    const flags = buf.readUInt16LE(at + 8);
    const [nameLength, extraLength, commentLength] = [buf.readUInt16LE(at + 28), buf.readUInt16LE(at + 30), buf.readUInt16LE(at + 32)];
    need(buf, at + 46, nameLength + extraLength + commentLength);
    const entry: ZipEntry = {
      name: buf.toString(flags & 0x800 ? 'utf8' : 'latin1', at + 46, at + 46 + nameLength),
      flags,
      method: buf.readUInt16LE(at + 10),
      compressedSize: buf.readUInt32LE(at + 20),
      size: buf.readUInt32LE(at + 24),
      localOffset: buf.readUInt32LE(at + 42),
    };
    // Zip64: the fields that say 0xffffffff are in the extra field, in this order.
    const extraEnd = at + 46 + nameLength + extraLength;
    for (let x = at + 46 + nameLength; x + 4 <= extraEnd; x += 4 + buf.readUInt16LE(x + 2)) {
      if (buf.readUInt16LE(x) !== 0x0001) continue;
      let field = x + 4;
      for (const key of ['size', 'compressedSize', 'localOffset'] as const) {
        if (entry[key] !== 0xffffffff) continue;
        entry[key] = u64(buf, field);
        field += 8;
      }
    }
    yield entry;
    at = extraEnd + commentLength;
  }
}

/** The entry's compressed bytes, which start after its local header. */
function dataOf(buf: Buffer, entry: ZipEntry): Buffer {
  const at = entry.localOffset;
  need(buf, at, 30);
  if (buf.readUInt32LE(at) !== 0x04034b50) throw unreadable(`the entry ${shown(entry.name)} has no local header`);
  const start = at + 30 + buf.readUInt16LE(at + 26) + buf.readUInt16LE(at + 28);
  need(buf, start, entry.compressedSize);
  return buf.subarray(start, start + entry.compressedSize);
}

/** A filesystem step of writing `name`; a failure the archive's layout causes is its fault. */
const writing = <T>(name: string, step: Promise<T>): Promise<T> =>
  step.catch((err: unknown) => {
    throw writeFailure(name, err);
  });

/** Entries up to this size are inflated in one piece, larger ones as a stream to their file. */
const WHOLE_BYTES = 1 << 20;
const inflateWhole = promisify(inflateRaw);

const damagedBy = (entry: ZipEntry, err: unknown): WispError =>
  invalid(`the archive entry ${shown(entry.name)} is damaged: ${(err as Error).message}`, err);
const pastDeclared = (entry: ZipEntry): WispError =>
  invalid(`the archive entry ${shown(entry.name)} unpacks to more than the ${entry.size} bytes its header declares`);

/**
 * Inflates one entry to `target` on zlib's thread pool, failing as soon as it passes the size
 * its header declares, and answers how many bytes it unpacked to.
 */
async function inflateEntry(data: Buffer, entry: ZipEntry, target: string): Promise<number> {
  if (entry.size <= WHOLE_BYTES) {
    const out = await inflateWhole(data, { maxOutputLength: Math.max(1, entry.size) }).catch((err: NodeJS.ErrnoException) => {
      throw err.code === 'ERR_BUFFER_TOO_LARGE' ? pastDeclared(entry) : damagedBy(entry, err);
    });
    await writing(entry.name, writeFile(target, out));
    return out.length;
  }
  let bytes = 0;
  const counter = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      bytes += chunk.length;
      if (bytes > entry.size) done(pastDeclared(entry));
      else done(null, chunk);
    },
  });
  try {
    await pipeline(Readable.from([data]), createInflateRaw(), counter, createWriteStream(target));
  } catch (err) {
    if (err instanceof WispError) throw err;
    throw (err as NodeJS.ErrnoException).code?.startsWith('Z_') ? damagedBy(entry, err) : writeFailure(entry.name, err);
  }
  return bytes;
}

export async function extractZip(bytes: Uint8Array, dir: string, maxBytes: number): Promise<void> {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const entries = [...centralDirectory(buf)];
  // Every name and the declared total are checked before anything is written.
  let declared = 0;
  for (const entry of entries) {
    entryTarget(dir, entry.name);
    declared += entry.size;
  }
  if (declared > maxBytes) throw tooLarge(maxBytes);
  const dirs = new Set<string>();
  const makeDir = async (name: string, path: string): Promise<void> => {
    if (dirs.has(path)) return;
    await writing(name, mkdir(path, { recursive: true }));
    dirs.add(path);
  };
  for (const entry of entries) {
    const target = entryTarget(dir, entry.name);
    if (entry.name.endsWith('/')) {
      await makeDir(entry.name, target);
      continue;
    }
    if (entry.flags & 0x1) throw invalid(`the archive entry ${shown(entry.name)} is encrypted: zip it without a password`);
    if (entry.method !== 0 && entry.method !== 8) {
      throw invalid(`the archive entry ${shown(entry.name)} uses compression method ${entry.method}: zip it with deflate, the default`);
    }
    const data = dataOf(buf, entry);
    if (entry.method === 0 && data.length !== entry.size) throw damaged(entry, data.length);
    await makeDir(entry.name, dirname(target));
    if (entry.method === 0) await writing(entry.name, writeFile(target, data));
    else {
      const written = await inflateEntry(data, entry, target);
      if (written !== entry.size) throw damaged(entry, written);
    }
  }
}
