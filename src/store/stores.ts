// Every store Wisp keeps its state in, as one backend builds them: the backend alone owns the
// connection they share and closes it. Nothing else constructs a store class (design §7.7).
import type { BatchStore } from './batch-store.js';
import type { BlobStore } from './blob-store.js';
import type { EnvStore } from './env-store.js';
import type { FunctionStore } from './function-store.js';
import type { GroupStore } from './group-store.js';
import type { InstanceStore } from './instance-store.js';
import type { InvocationStore } from './invocation-store.js';
import type { MembershipStore } from './membership-store.js';
import type { MessageBus } from './message-bus.js';
import type { SlotStore } from './slot-store.js';
import type { TriggerStore } from './trigger-store.js';
import type { WorkQueue } from './work-queue.js';

export interface Stores {
  readonly functions: FunctionStore;
  readonly env: EnvStore;
  readonly instances: InstanceStore;
  readonly groups: GroupStore;
  readonly invocations: InvocationStore;
  readonly batches: BatchStore;
  readonly triggers: TriggerStore;
  readonly blobs: BlobStore;
  /**
   * Cluster membership, the bus between nodes, the concurrency slots they share and the queue
   * they take asynchronous work from: only a backend several nodes can share has them.
   */
  readonly cluster: { readonly membership: MembershipStore; readonly bus: MessageBus; readonly slots: SlotStore; readonly queue: WorkQueue } | null;
  /** After every user of the stores has stopped: releases what they share. */
  close(): Promise<void>;
}
