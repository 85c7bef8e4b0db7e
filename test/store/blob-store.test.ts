// The blob store's conformance suite on each backend: files in the data dir, and Redis with a
// local cache. The embedded backend's "other store" is a second one on the same directory, as
// a restarted Wisp would be.
import t from 'tap';
import { FileBlobStore } from '../../dist/store/blob-store.js';
import { RedisBlobStore } from '../../dist/store/redis-blob-store.js';
import { tempDir } from '../helpers/temp-dir.js';
import { onEachBackend } from './conformance/backends.js';
import { blobStoreConformance } from './conformance/blob-store.js';

onEachBackend(
  t,
  {
    embedded: () => {
      const dir = tempDir();
      return { store: new FileBlobStore(dir), peer: new FileBlobStore(dir) };
    },
    redis: (redis, prefix) => ({ store: new RedisBlobStore(redis, prefix, tempDir()), peer: new RedisBlobStore(redis, prefix, tempDir()) }),
  },
  blobStoreConformance,
);
