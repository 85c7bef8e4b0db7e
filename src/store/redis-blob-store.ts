// Blobs in Redis, under `blob:DIGEST`, with a local file cache (a FileBlobStore) for the paths
// workers read bundles from and for reads that repeat. A blob never changes, so a cached copy is
// never stale; a put writes the cache and Redis, and is done when Redis has it.
import type { Redis } from 'ioredis';
import { digestOf, FileBlobStore, type BlobStore } from './blob-store.js';

export class RedisBlobStore implements BlobStore {
  readonly #redis: Redis;
  readonly #prefix: string;
  readonly #cache: FileBlobStore;

  /** Keys start with `prefix`; `cacheDir` is this machine's copy of the blobs it has used. */
  constructor(redis: Redis, prefix: string, cacheDir: string) {
    this.#redis = redis;
    this.#prefix = prefix;
    this.#cache = new FileBlobStore(cacheDir);
  }

  async put(bytes: Uint8Array): Promise<string> {
    const digest = digestOf(bytes);
    await Promise.all([this.#cache.put(bytes), this.#redis.set(this.#key(digest), Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength), 'NX')]);
    return digest;
  }

  async get(digest: string): Promise<Buffer> {
    if (await this.#cache.has(digest)) return this.#cache.get(digest);
    return this.#fetch(digest);
  }

  async size(digest: string): Promise<number> {
    if (await this.#cache.has(digest)) return this.#cache.size(digest);
    const length = await this.#redis.strlen(this.#key(digest));
    if (length === 0 && (await this.#redis.exists(this.#key(digest))) === 0) throw missing(digest);
    return length;
  }

  async localPath(digest: string): Promise<string> {
    if (!(await this.#cache.has(digest))) await this.#fetch(digest);
    return this.#cache.localPath(digest);
  }

  /** From Redis into the cache; the bytes are checked against their digest on the way. */
  async #fetch(digest: string): Promise<Buffer> {
    const bytes = await this.#redis.getBuffer(this.#key(digest));
    if (bytes === null) throw missing(digest);
    if (digestOf(bytes) !== digest) throw new Error(`blob ${digest} in Redis does not match its digest`);
    await this.#cache.put(bytes);
    return bytes;
  }

  #key(digest: string): string {
    return `${this.#prefix}blob:${digest}`;
  }
}

function missing(digest: string): Error {
  return Object.assign(new Error(`no blob ${digest}`), { code: 'ENOENT' });
}
