// The function registry: deploys (bundle, load-check, store), versions, rollback, delete, and
// the hot-path lookup of which code a call runs.
import { type Clock } from '../common/clock.js';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Config } from '../config.js';
import { WispError } from '../errors.js';
import type { CodeRef, LoadReport } from '../runtime/protocol.js';
import type { BlobStore } from '../store/blob-store.js';
import { digestOf } from '../store/blob-store.js';
import type { FunctionStore } from '../store/function-store.js';
import type { FunctionRecord, VersionRecord } from '../store/records.js';
import { unpackArchive, type ArchiveFormat } from './archive.js';
import { bundleDirectory, bundleSource, type SourceLanguage } from './bundle.js';
import { resolveFunctionConfig } from './function-config.js';
import { assertFunctionName } from './function-name.js';

export type Upload =
  | { kind: 'source'; source: string; filename: string; language: SourceLanguage }
  | { kind: 'archive'; bytes: Uint8Array; format: ArchiveFormat };

/** Loads a bundle in an isolated worker under a deadline and reports its exports. */
export type ModuleInspector = (code: CodeRef) => Promise<LoadReport>;

export interface RegistryOptions {
  store: FunctionStore;
  blobs: BlobStore;
  inspect: ModuleInspector;
  limits: Config['functions'];
  /** Where uploads are unpacked and bundled; on the same disk as the blobs. */
  scratchDir: string;
  /** An archive may unpack to at most this many bytes. */
  maxUnpackedBytes: number;
  clock: Clock;
  /**
   * Told after each change this registry made (deploy, rollback, delete), once it is stored:
   * in a cluster, the other nodes refresh that function (cluster/cache-sync.ts).
   */
  changed?: (name: string) => void;
  /** Whether other nodes change the same store (a cluster): then a name not known here is looked up there before it is missing. */
  shared?: boolean;
}

export interface FunctionView extends FunctionRecord {
  active: VersionRecord;
}

export function codeRef(version: Pick<VersionRecord, 'name' | 'digest'>, codePath: string): CodeRef {
  return { digest: version.digest, codePath, label: `${version.name}-${version.digest.slice(0, 8)}` };
}

export class Registry {
  readonly #o: RegistryOptions;
  /** Every function and version, loaded at start and kept current by each change: no read waits on the store. */
  readonly #functions = new Map<string, FunctionRecord>();
  readonly #versions = new Map<string, Map<number, VersionRecord>>();
  /** Active version per function: the one read on every call. */
  readonly #active = new Map<string, VersionRecord>();
  readonly #codeRefs = new WeakMap<VersionRecord, CodeRef>();
  /** Digest → the local file of its bundle: known for every version before a call can ask. */
  readonly #codePaths = new Map<string, string>();

  constructor(options: RegistryOptions) {
    this.#o = options;
  }

  async deploy(name: string, upload: Upload, deployConfig: unknown): Promise<VersionRecord> {
    assertFunctionName(name);
    const scratch = await mkdtemp(join(this.#o.scratchDir, 'deploy-'));
    try {
      const bundle = await this.#bundle(upload, scratch);
      const digest = digestOf(bundle);
      // Load-check from the scratch copy: a module that fails leaves nothing in the blob store.
      const scratchFile = join(scratch, 'bundle.js');
      await writeFile(scratchFile, bundle);
      const report = await this.#o.inspect(codeRef({ name, digest }, scratchFile));
      const { handler, fetch, classes } = report.exports;
      if (!handler && !fetch && classes.length === 0) {
        throw new WispError(
          'INVALID_FUNCTION',
          'the module exports no handler: export a default function, a default object with fetch(request, ctx), or a class',
        );
      }
      const config = resolveFunctionConfig(report.config, deployConfig, this.#o.limits);
      await this.#o.blobs.put(bundle);
      this.#codePaths.set(digest, await this.#o.blobs.localPath(digest));
      const { fn, version } = await this.#o.store.addVersion({ name, digest, config, exports: report.exports, createdAt: this.#o.clock.now() });
      this.#functions.set(name, fn);
      this.#versionsOf(name).set(version.version, version);
      this.#active.set(name, version);
      this.#o.changed?.(name);
      return version;
    } finally {
      await rm(scratch, { recursive: true, force: true });
    }
  }

  /** Reads every function and version from the store; before the first call is served. */
  async load(): Promise<void> {
    const { functions, versions } = await this.#o.store.load();
    await this.#fetchCode(versions);
    // Swapped in at once: a call during a reload (a cluster's, after a lost connection) sees
    // the old records or the new, never none.
    this.#functions.clear();
    this.#versions.clear();
    this.#active.clear();
    for (const fn of functions) this.#functions.set(fn.name, fn);
    for (const version of versions) this.#versionsOf(version.name).set(version.version, version);
  }

  /** Makes sure every version's bundle is on this machine (a Redis store caches it locally). */
  async #fetchCode(versions: VersionRecord[]): Promise<void> {
    for (const digest of new Set(versions.map((version) => version.digest))) {
      if (!this.#codePaths.has(digest)) this.#codePaths.set(digest, await this.#o.blobs.localPath(digest));
    }
  }

  list(): FunctionView[] {
    return [...this.#functions.values()].sort((a, b) => (a.name < b.name ? -1 : 1)).map((fn) => ({ ...fn, active: this.#activeOf(fn.name) }));
  }

  get(name: string): FunctionView {
    const fn = this.#functions.get(name);
    if (!fn) throw notFound(name);
    return { ...fn, active: this.#activeOf(name) };
  }

  versions(name: string): VersionRecord[] {
    const versions = this.#versions.get(name);
    if (!versions || versions.size === 0) throw notFound(name);
    return [...versions.values()].sort((a, b) => a.version - b.version);
  }

  async rollback(name: string, version: number): Promise<FunctionView> {
    if (!this.#functions.has(name)) throw notFound(name);
    const fn = await this.#o.store.setActiveVersion(name, version, this.#o.clock.now());
    if (!fn) throw versionNotFound(name, version);
    this.#functions.set(name, fn);
    this.#active.delete(name);
    this.#o.changed?.(name);
    return { ...fn, active: this.#activeOf(name) };
  }

  async delete(name: string): Promise<void> {
    if (!this.#functions.has(name)) throw notFound(name);
    this.#functions.delete(name);
    this.#versions.delete(name);
    this.#active.delete(name);
    if (!(await this.#o.store.deleteFunction(name))) throw notFound(name);
    this.#o.changed?.(name);
  }

  /**
   * Reads one function again from the store (another node changed it): its versions' code is
   * on this machine before the new records are swapped in, so no call finds one without it.
   */
  async refresh(name: string): Promise<void> {
    const one = await this.#o.store.loadOne(name);
    if (one) await this.#fetchCode(one.versions);
    this.#active.delete(name);
    if (!one) {
      this.#functions.delete(name);
      this.#versions.delete(name);
      return;
    }
    this.#functions.set(name, one.fn);
    this.#versions.set(name, new Map(one.versions.map((version) => [version.version, version])));
  }

  /**
   * The version a call runs, like resolve(); in a cluster, a function or version not known here
   * may have been deployed on another node a moment ago: it is read from the store first.
   */
  async resolveFresh(name: string, version?: number): Promise<VersionRecord> {
    try {
      return this.resolve(name, version);
    } catch (err) {
      if (!this.#o.shared || !(err instanceof WispError)) throw err;
      await this.refresh(name);
      return this.resolve(name, version);
    }
  }

  /** The version a call runs when this node knows it, else undefined (see resolveFresh). */
  find(name: string, version?: number): VersionRecord | undefined {
    if (version === undefined) {
      const active = this.#active.get(name);
      if (active) return active;
    }
    try {
      return this.resolve(name, version);
    } catch {
      return undefined;
    }
  }

  /** The version a call runs: the active one, or the one asked for. */
  /** Whether the function's active version was deployed with `public: true`; false if there is none. */
  isPublic(name: string): boolean {
    try {
      return this.resolve(name).config.public === true;
    } catch {
      return false;
    }
  }

  resolve(name: string, version?: number): VersionRecord {
    if (version === undefined) return this.#active.get(name) ?? this.#activeOf(name);
    const record = this.#versions.get(name)?.get(version);
    if (record) return record;
    if (!this.#functions.has(name)) throw notFound(name);
    throw versionNotFound(name, version);
  }

  /** Where a version's code is; built once per version record, as it is asked for on every call. */
  code(version: VersionRecord): CodeRef {
    let code = this.#codeRefs.get(version);
    if (!code) {
      const path = this.#codePaths.get(version.digest);
      // load() and deploy() fetch every bundle before a call can name it.
      if (path === undefined) throw new Error(`the code of ${version.name} version ${version.version} (${version.digest}) is not on this machine`);
      code = codeRef(version, path);
      this.#codeRefs.set(version, code);
    }
    return code;
  }

  #activeOf(name: string): VersionRecord {
    let active = this.#active.get(name);
    if (!active) {
      const fn = this.#functions.get(name);
      active = fn && this.#versions.get(name)?.get(fn.activeVersion);
      if (!active) throw notFound(name);
      this.#active.set(name, active);
    }
    return active;
  }

  #versionsOf(name: string): Map<number, VersionRecord> {
    let versions = this.#versions.get(name);
    if (!versions) {
      versions = new Map();
      this.#versions.set(name, versions);
    }
    return versions;
  }

  async #bundle(upload: Upload, scratch: string): Promise<Buffer> {
    if (upload.kind === 'source') return bundleSource(upload.source, upload.filename, upload.language, scratch);
    const unpackDir = join(scratch, 'archive');
    const { root, entry } = await unpackArchive(upload.bytes, upload.format, unpackDir, this.#o.maxUnpackedBytes);
    return bundleDirectory(root, entry);
  }
}

const notFound = (name: string): WispError => new WispError('FUNCTION_NOT_FOUND', `no function named "${name.slice(0, 80)}"`);
const versionNotFound = (name: string, version: number): WispError =>
  new WispError('VERSION_NOT_FOUND', `function "${name}" has no version ${version}`);
