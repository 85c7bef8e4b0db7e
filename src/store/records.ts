// The records the store keeps. They are plain JSON-able data so that every store implementation
// (embedded SQLite now, Redis later) can hold them unchanged.

/** A function's settings, from `export const config` merged with the deploy's config part. */
export interface FunctionConfig {
  timeoutMs: number;
  memoryMb: number;
  concurrency: number;
  retries: number;
}

/** What a module exports, found by loading it at deploy time. */
export interface ModuleExports {
  handler: boolean;
  fetch: boolean;
  classes: string[];
}

export interface VersionRecord {
  name: string;
  version: number;
  /** sha256 of the bundled code; the key of the code blob. */
  digest: string;
  config: FunctionConfig;
  exports: ModuleExports;
  createdAt: string;
}

export interface FunctionRecord {
  name: string;
  activeVersion: number;
  latestVersion: number;
  createdAt: string;
  updatedAt: string;
}
