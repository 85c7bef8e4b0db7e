// The records the store keeps. They are plain JSON-able data so that every store implementation
// (embedded SQLite now, Redis later) can hold them unchanged.

/** A function's settings, from `export const config` merged with the deploy's config part. */
export interface FunctionConfig {
  timeoutMs: number;
  memoryMb: number;
  concurrency: number;
  /** How many times a failed asynchronous invocation runs again. */
  retries: number;
  /** The first retry's delay; each next one doubles, with jitter (invocations/retry-policy.ts). */
  retryBackoffMs: number;
  /** An asynchronous invocation still waiting to run this long after it was submitted fails. */
  maxAgeMs: number;
  /**
   * The default of its instances' idleSuspendMs; 0: they never hibernate. Absent in versions
   * deployed before it existed: 0.
   */
  idleSuspendMs?: number;
  /**
   * Deduplication of calls that are pending at once (pynenc's concurrency control): by the
   * function and its input (`arguments`) or by the function alone; a second call joins the
   * pending one (`reuse`) or is refused (`reject`). Absent in versions deployed before it: off.
   */
  concurrencyControl?: ConcurrencyControl;
  /**
   * Whether /fn/{name} answers without a token. Absent in versions deployed before it existed,
   * which therefore stay private.
   */
  public?: boolean;
}

export interface ConcurrencyControl {
  key: 'arguments' | 'function';
  mode: 'reuse' | 'reject' | 'off';
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
  createdAt: number;
}

export interface FunctionRecord {
  name: string;
  activeVersion: number;
  latestVersion: number;
  createdAt: number;
  updatedAt: number;
}

/** `hibernated`: stopped by Wisp when idle (idleSuspendMs), woken by the next call or socket; `suspended` is a user's. */
export type InstanceStatus = 'starting' | 'running' | 'hibernated' | 'suspended' | 'failed' | 'terminated';

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
  checkpointedAt: number | null;
  /** Why the instance is `failed`, when it is. */
  failure?: string | null;
  /** `every-call`: each reply waits until a checkpoint after it is committed (what a client was told survives a failover). */
  durability?: 'every-call' | null;
  /** Checkpointed this often while calls change it; null: only on suspend and shutdown. */
  checkpointEveryMs?: number | null;
  /** Hibernates after this long with no call and no socket; null: never. */
  idleSuspendMs?: number | null;
  /**
   * The node that owns the instance (runs its thread, writes its record); null when none does
   * (a record from before cluster mode, or one whose node is gone and no node has claimed it yet).
   */
  node?: string | null;
  /**
   * Grows by one each time a node claims the instance: a write carrying an older epoch comes
   * from a node that is no longer its owner, and the store refuses it (STALE_OWNER).
   */
  epoch?: number;
  createdAt: number;
  updatedAt: number;
}

export type GroupStatus = 'running' | 'suspended' | 'failed';

/** What a group does when a member dies: fail as a whole, or restart as a whole (up to maxRestarts). */
export interface GroupPolicy {
  onMemberFailure: 'fail' | 'restart';
  maxRestarts: number;
  /** How members spread over a cluster's nodes: as few nodes as they fit on, or evenly; absent in records from before it (pack). */
  placement?: 'pack' | 'spread';
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
  /** The node that manages the group (its home: the one that created it); absent in records from before cluster mode. */
  node?: string;
  createdAt: number;
  updatedAt: number;
}

export type InvocationStatus = 'queued' | 'running' | 'retrying' | 'succeeded' | 'failed' | 'cancelled';

/** Why an invocation failed or stopped: a catalogue code, what happened, and the user's error. */
export interface InvocationError {
  code: string;
  message: string;
  /** The error the user's code threw, when it threw one. */
  error?: { name: string; message: string; stack?: string };
}

/** One line a function wrote with console.* while it ran. */
export interface LogEntry {
  /** Epoch milliseconds. */
  time: number;
  level: 'debug' | 'info' | 'log' | 'warn' | 'error' | 'trace';
  message: string;
  attempt: number;
}

/** Delivery of the final record to an X-Callback-Url. */
export interface CallbackState {
  url: string;
  status: 'pending' | 'delivered' | 'failed';
  attempts: number;
  /** Epoch ms of the next delivery attempt while pending. */
  nextAt: number | null;
  lastError: string | null;
}

/**
 * An invocation as the store keeps it: asynchronous ones durably, synchronous and nested ones in
 * memory. Times are epoch milliseconds here; the API shows them as ISO strings.
 */
export interface InvocationRecord {
  id: string;
  function: string;
  version: number;
  /** Set when the invocation is a method call on a stateful instance. */
  instance: string | null;
  method: string | null;
  mode: 'sync' | 'async' | 'nested';
  status: InvocationStatus;
  input: unknown;
  result: unknown;
  error: InvocationError | null;
  attempts: number;
  maxAttempts: number;
  parentId: string | null;
  triggerId: string | null;
  idempotencyKey: string | null;
  /** sha256 of what was submitted with the idempotency key, to tell a replay from a reuse. */
  requestHash: string | null;
  callback: CallbackState | null;
  /** When a queued or retrying invocation may run next. */
  runAt: number;
  /**
   * How many times an attempt of it was running when Wisp itself died (found at the next start).
   * Past the second it is a poison pill and fails HOST_CRASHED instead of running again.
   */
  hostCrashes?: number;
  /** A cancel came while it ran; if Wisp stops before the attempt ends, it ends as cancelled. */
  cancelRequested?: boolean;
  /** An invocation still waiting past createdAt + maxAgeMs fails without running. */
  maxAgeMs: number;
  /**
   * Set when its function's concurrencyControl was on at submission: while it is queued or
   * running, a submission with the same key gets this one (reuse) or is refused (reject).
   */
  concurrencyKey?: string;
  /** The batch it is a member of, and its place in the batch's inputs; absent for others. */
  batchId?: string;
  index?: number;
  createdAt: number;
  startedAt: number | null;
  finishedAt: number | null;
}

/**
 * A batch: one submission of many inputs to one function, each an ordinary asynchronous
 * invocation (its member, with batchId and index). What it counts is read from its members.
 */
export interface BatchRecord {
  id: string;
  function: string;
  version: number;
  size: number;
  idempotencyKey: string | null;
  /** sha256 of what was submitted with the idempotency key, to tell a replay from a reuse. */
  requestHash: string | null;
  /** The whole batch's X-Callback-Url, called once when every member is final. */
  callback: CallbackState | null;
  /** A DELETE came: its waiting members were cancelled. */
  cancelRequested: boolean;
  createdAt: number;
  /** When a node first found every member final; null until then. */
  finishedAt: number | null;
}

export type WebhookScheme = 'github' | 'stripe' | 'standard' | 'hmac-sha256';

/** For the generic `hmac-sha256` scheme: where the signature is and how it is written. */
export interface HmacSettings {
  header: string;
  encoding: 'hex' | 'base64';
  prefix: string;
  /** A header holding the delivery id, used as the idempotency key; none if empty. */
  idHeader: string;
}

export interface TriggerSecret {
  secret: string;
  /** Epoch ms after which a rotated-out secret is no longer accepted; null for the current one. */
  expiresAt: number | null;
}

/** A webhook trigger: deliveries to /hooks/{id} signed with one of `secrets` run `function`. */
export interface WebhookTriggerRecord {
  id: string;
  function: string;
  type: 'webhook';
  scheme: WebhookScheme;
  secrets: TriggerSecret[];
  hmac: HmacSettings | null;
  createdAt: number;
}

/** A cron trigger: `function` runs as an asynchronous invocation at each time `schedule` names. */
export interface CronTriggerRecord {
  id: string;
  function: string;
  type: 'cron';
  /** Five fields, or six with seconds first (croner syntax). */
  schedule: string;
  /** IANA zone the schedule is read in; null: UTC. */
  timezone: string | null;
  input: unknown;
  /** `skip`: no run starts while the previous run of this trigger is unfinished. */
  overlap: 'skip' | 'allow';
  /** What a start does about times missed while Wisp was down: run once now, or nothing. */
  missed: 'once' | 'skip';
  /** The last scheduled time handled (run, skipped or missed), epoch ms. */
  lastScheduledAt: number | null;
  lastInvocationId: string | null;
  createdAt: number;
}

export type TriggerRecord = WebhookTriggerRecord | CronTriggerRecord;
