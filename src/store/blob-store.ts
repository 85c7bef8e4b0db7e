import { createHash, randomBytes } from 'node:crypto';
import { mkdir, open, readFile, rename, rm, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';

/**
 * Content-addressed immutable blobs (code bundles, checkpoints), by sha256 digest.
 * Implementations: files (below) and Redis with a local file cache (redis-blob-store.ts).
 */
export interface BlobStore {
  /** Stores the bytes and returns their sha256 hex digest. Idempotent. */
  put(bytes: Uint8Array): Promise<string>;
  get(digest: string): Promise<Buffer>;
  /** The blob's length in bytes, known without reading it. */
  size(digest: string): Promise<number>;
  /**
   * A file on this machine that holds the blob, for workers that read it themselves; where the
   * blobs live elsewhere, it is fetched into a local cache first.
   */
  localPath(digest: string): Promise<string>;
}

const DIGEST = /^[0-9a-f]{64}$/;

export function digestOf(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** Blobs as files under `root/ab/abcdef...`, written atomically: temp file, fsync, rename. */
export class FileBlobStore implements BlobStore {
  readonly #root: string;

  constructor(root: string) {
    this.#root = root;
  }

  async localPath(digest: string): Promise<string> {
    return this.#pathOf(digest);
  }

  /** Whether the blob is here. */
  has(digest: string): Promise<boolean> {
    return exists(this.#pathOf(digest));
  }

  #pathOf(digest: string): string {
    // Digests come from our own records; the check keeps a bad one from naming any other path.
    if (!DIGEST.test(digest)) throw new Error(`not a sha256 digest: ${digest}`);
    return join(this.#root, digest.slice(0, 2), digest);
  }

  async put(bytes: Uint8Array): Promise<string> {
    const digest = digestOf(bytes);
    const target = this.#pathOf(digest);
    if (await exists(target)) return digest;
    await mkdir(dirname(target), { recursive: true });
    const temp = `${target}.${randomBytes(6).toString('hex')}.tmp`;
    try {
      const file = await open(temp, 'wx', 0o600);
      try {
        await file.writeFile(bytes);
        await file.sync();
      } finally {
        await file.close();
      }
      await rename(temp, target);
      await syncDirectory(dirname(target));
    } catch (err) {
      await rm(temp, { force: true });
      throw err;
    }
    return digest;
  }

  get(digest: string): Promise<Buffer> {
    return readFile(this.#pathOf(digest));
  }

  async size(digest: string): Promise<number> {
    return (await stat(this.#pathOf(digest))).size;
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}

/** fsync on the directory makes the rename itself durable. */
async function syncDirectory(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
