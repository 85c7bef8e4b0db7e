// Writes an instance's record as this node, its owner: a status change, or stopping it as
// suspended or hibernated once that is stored. A write refused because another node claimed the
// instance since makes this node let go of it (InstanceOwnership.asOwner).
import type { Clock } from '../common/clock.js';
import type { InstanceStore } from '../store/instance-store.js';
import type { InstanceRecord, InstanceStatus } from '../store/records.js';
import { stopThread, type LiveInstance } from './live-instances.js';

export interface InstanceRecordWriterOptions {
  store: InstanceStore;
  clock: Clock;
  /** Runs a write of the instance's record as its owner (InstanceOwnership.asOwner). */
  asOwner: (id: string, write: () => Promise<void>) => Promise<void>;
}

export class InstanceRecordWriter {
  readonly #o: InstanceRecordWriterOptions;

  constructor(options: InstanceRecordWriterOptions) {
    this.#o = options;
  }

  /** Writes the record as it is. */
  save(record: InstanceRecord): Promise<void> {
    return this.#o.asOwner(record.id, () => this.#o.store.save(record));
  }

  async setStatus(record: InstanceRecord, status: InstanceStatus): Promise<void> {
    record.status = status;
    record.updatedAt = this.#o.clock.now();
    await this.save(record);
  }

  /**
   * Records the instance as stopped (suspended, hibernated), then stops its thread. The record in
   * memory, which the API shows, changes only once the write succeeded, in the same turn as its
   * resources are released: nobody sees it stopped while it still holds them, and a refused write
   * leaves it running as it was.
   */
  async stopAs(live: LiveInstance, status: InstanceStatus): Promise<void> {
    const stopped: InstanceRecord = { ...live.record, status, updatedAt: this.#o.clock.now() };
    await this.save(stopped);
    Object.assign(live.record, { status: stopped.status, updatedAt: stopped.updatedAt });
    await stopThread(live);
  }
}
