// Function metadata, as the operations the registry needs. The registry serves every read from
// memory (a call never waits on the store): it loads everything once, and each change returns
// what it made.
import type { FunctionRecord, VersionRecord } from './records.js';

export type VersionDraft = Omit<VersionRecord, 'version'>;

/** Implementations: SQLite (sqlite-function-store.ts) and Redis (redis-function-store.ts), held to test/store/conformance. */
export interface FunctionStore {
  /** Every function (by name) and every version of each (oldest first). */
  load(): Promise<{ functions: FunctionRecord[]; versions: VersionRecord[] }>;
  /** One function and its versions (oldest first), as load() has them; null when there is no such function. */
  loadOne(name: string): Promise<{ fn: FunctionRecord; versions: VersionRecord[] } | null>;
  /** Takes the next version number, records the version and makes it active, atomically. */
  addVersion(draft: VersionDraft): Promise<{ fn: FunctionRecord; version: VersionRecord }>;
  /** The updated record; undefined when the function or the version does not exist. */
  setActiveVersion(name: string, version: number, updatedAt: number): Promise<FunctionRecord | undefined>;
  /** The function and all its versions; false when there was no such function. */
  deleteFunction(name: string): Promise<boolean>;
}
