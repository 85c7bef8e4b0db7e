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

export type InstanceStatus = 'starting' | 'running' | 'suspended' | 'failed' | 'terminated';

export interface ResourceSpec {
  /** Millicores. */
  cpu: number;
  /** MiB; also the instance thread's heap cap. */
  memory: number;
  custom: Record<string, number>;
}

/** A stateful instance as the store keeps it and the API shows it (args and checkpoint aside). */
export interface InstanceRecord {
  id: string;
  function: string;
  /** The function version the instance runs; fixed at creation. */
  version: number;
  class: string;
  name: string | null;
  group: string | null;
  status: InstanceStatus;
  resources: ResourceSpec;
  maxRestarts: number;
  restarts: number;
  /** Constructor arguments, kept to construct it again when it restarts with no checkpoint. */
  args: unknown[];
  /** Digest of the last checkpoint blob, if one was taken. */
  checkpoint: string | null;
  checkpointedAt: string | null;
  /** Why the instance is `failed`, when it is. */
  failure?: string | null;
  createdAt: string;
  updatedAt: string;
}

export type GroupStatus = 'running' | 'suspended' | 'failed';

/** What a group does when a member dies: fail as a whole, or restart as a whole (up to maxRestarts). */
export interface GroupPolicy {
  onMemberFailure: 'fail' | 'restart';
  maxRestarts: number;
}

export interface GroupRecord {
  name: string;
  status: GroupStatus;
  /** Member instance ids, in the order the create request listed them. */
  members: string[];
  policy: GroupPolicy;
  restarts: number;
  failure: string | null;
  /** Counts group checkpoints; every member's checkpoint belongs to the same one. */
  generation: number;
  createdAt: string;
  updatedAt: string;
}
