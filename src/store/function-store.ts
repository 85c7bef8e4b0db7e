import type { FunctionRecord, VersionRecord } from './records.js';

/** Function metadata. Implementations: embedded SQLite (sqlite-function-store.ts); Redis later. */
export interface FunctionStore {
  /** Records a new version and makes it active, atomically; returns it with its number. */
  addVersion(draft: Omit<VersionRecord, 'version'>): { fn: FunctionRecord; version: VersionRecord };
  getFunction(name: string): FunctionRecord | undefined;
  listFunctions(): FunctionRecord[];
  getVersion(name: string, version: number): VersionRecord | undefined;
  listVersions(name: string): VersionRecord[];
  /** Returns the updated record, or undefined when the function or the version does not exist. */
  setActiveVersion(name: string, version: number, updatedAt: string): FunctionRecord | undefined;
  /** Returns false when there was no such function. */
  deleteFunction(name: string): boolean;
}
