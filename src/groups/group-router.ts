// Groups as the API sees them, wherever they are managed: an operation on a group this node
// manages goes to its group manager; one on a group another node manages goes to that node (its
// home, as stored). Alone, a node manages every group there is, and this is a pass-through.
// A read whose home cannot answer (it died, and no node has taken the group over yet) shows the
// group as stored.
import { WispError } from '../errors.js';
import type { GroupStore } from '../store/group-store.js';
import type { GroupRecord, InstanceRecord } from '../store/records.js';
import { groupView, type CreateGroupRequest, type GroupManager, type GroupView } from './group-manager.js';

export type GroupAction = 'get' | 'suspend' | 'resume' | 'delete';

/** The cluster, as the group router needs it (cluster-member-hosts.ts). */
export interface GroupHomes {
  readonly self: string;
  /** Sends an operation to the node that manages the group. */
  forward<T>(home: string, action: GroupAction, name: string): Promise<T>;
  /** A member's record as stored. */
  loadMember(id: string): Promise<InstanceRecord | null>;
}

export class GroupRouter {
  readonly #manager: GroupManager;
  readonly #store: GroupStore;
  readonly #homes: GroupHomes | null;

  /** `homes` null: a node alone, which manages every group. */
  constructor(manager: GroupManager, store: GroupStore, homes: GroupHomes | null) {
    this.#manager = manager;
    this.#store = store;
    this.#homes = homes;
  }

  create(request: CreateGroupRequest): Promise<GroupView> {
    return this.#manager.create(request);
  }

  async get(name: string): Promise<GroupView> {
    if (!this.#homes || this.#manager.manages(name)) return this.#manager.get(name);
    try {
      return await this.#homes.forward<GroupView>(await this.#home(name), 'get', name);
    } catch (err) {
      if (!(err instanceof WispError && err.code === 'INSTANCE_UNAVAILABLE')) throw err;
      const stored = await this.#store.get(name);
      if (!stored) throw new WispError('GROUP_NOT_FOUND', `no group named "${name}"`);
      return this.#asStored(stored);
    }
  }

  /** Every group of the cluster, each as its home sees it (or as stored, when it cannot answer). */
  async list(): Promise<GroupView[]> {
    if (!this.#homes) return this.#manager.list();
    const homes = this.#homes;
    return Promise.all(
      (await this.#store.list()).map(async (stored) => {
        if (this.#manager.manages(stored.name)) return this.#manager.get(stored.name);
        return homes.forward<GroupView>(stored.node ?? '', 'get', stored.name).catch(() => this.#asStored(stored));
      }),
    );
  }

  async delete(name: string): Promise<void> {
    if (!this.#homes || this.#manager.manages(name)) return this.#manager.delete(name);
    await this.#homes.forward(await this.#home(name), 'delete', name);
  }

  async suspend(name: string): Promise<GroupView> {
    if (!this.#homes || this.#manager.manages(name)) return this.#manager.suspend(name);
    return this.#homes.forward<GroupView>(await this.#home(name), 'suspend', name);
  }

  async resume(name: string): Promise<GroupView> {
    if (!this.#homes || this.#manager.manages(name)) return this.#manager.resume(name);
    return this.#homes.forward<GroupView>(await this.#home(name), 'resume', name);
  }

  /** An operation its home got from another node: run here, never sent on. */
  async answerHere(action: GroupAction, name: string): Promise<unknown> {
    if (action === 'get') return this.#manager.get(name);
    if (action === 'delete') return this.#manager.delete(name).then(() => null);
    return action === 'suspend' ? this.#manager.suspend(name) : this.#manager.resume(name);
  }

  async #asStored(stored: GroupRecord): Promise<GroupView> {
    const members = this.#homes ? await Promise.all(stored.members.map((id) => this.#homes!.loadMember(id))) : [];
    return groupView(stored, members.filter((m): m is InstanceRecord => m !== null));
  }

  /** The node that manages a group kept elsewhere in the cluster. */
  async #home(name: string): Promise<string> {
    const group = await this.#store.get(name);
    if (!group) throw new WispError('GROUP_NOT_FOUND', `no group named "${name}"`);
    if (!group.node || group.node === this.#homes!.self) {
      throw new WispError('INSTANCE_UNAVAILABLE', `group "${name}" is managed by this node, which does not run it just now (it is rejoining the cluster); try again in a moment`, { retryAfterSeconds: 1 });
    }
    return group.node;
  }
}
