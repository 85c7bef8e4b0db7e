// The other nodes, as this one sends them requests: their addresses (from the membership
// records, read again when one is not known or cannot be reached), and one signed client.
import { WispError } from '../errors.js';
import type { MembershipStore, NodeRecord } from '../store/membership-store.js';
import { PeerClient, PeerNoAnswer, PeerUnreachable } from './peer-client.js';
import type { PlacementCandidate } from './placement.js';

export { PeerNoAnswer, PeerUnreachable } from './peer-client.js';

/**
 * Whether new work may go to a node: active, reachable at an address, and renewing its lease. A
 * node that stopped renewing is skipped from the moment its lease ends, long before the reaper
 * declares it dead.
 */
export function placeable(node: NodeRecord, now: number): boolean {
  return node.state === 'active' && node.address !== null && now <= node.leaseUntil;
}

/**
 * What a request to a peer about `what` ("instance ins_…") failed with, in the caller's terms: a
 * node not reached (`sent: false`, worth another try elsewhere) or one that did not answer
 * (`sent: true`: it may have run, and is not sent again) is 503 INSTANCE_UNAVAILABLE; any other
 * error is as it came.
 */
export function unavailableError(err: unknown, node: string, what: string): unknown {
  if (err instanceof PeerUnreachable) {
    return new WispError('INSTANCE_UNAVAILABLE', `node ${node}, which runs ${what}, cannot be reached (${err.message}); once it is declared dead a live node takes over what it ran`, { retryAfterSeconds: 1, sent: false });
  }
  if (err instanceof PeerNoAnswer) {
    return new WispError('INSTANCE_UNAVAILABLE', `the request for ${what} was sent to node ${node}, which did not answer (${err.message}); it may have run, so it is not sent again`, { sent: true });
  }
  return err;
}

export class Peers {
  readonly #store: MembershipStore;
  readonly #client: PeerClient;
  #addresses = new Map<string, string>();

  constructor(store: MembershipStore, secret: () => string) {
    this.#store = store;
    this.#client = new PeerClient(secret);
  }

  /** Every node the cluster knows, as its store has them now (addresses remembered), and which may take new work. */
  async nodes(): Promise<{ nodes: NodeRecord[]; placeable: NodeRecord[] }> {
    const { now, nodes } = await this.#store.nodes();
    this.#addresses = new Map(nodes.filter((node) => node.state === 'active' && node.address).map((node) => [node.id, node.address!]));
    return { nodes, placeable: nodes.filter((node) => placeable(node, now)) };
  }

  /**
   * Where new work may go: the live nodes that take it (this one left out of what the store says)
   * and this node with its resources as they are this moment (`self`, null when it may take none).
   */
  async candidates(selfId: string, self: PlacementCandidate | null): Promise<PlacementCandidate[]> {
    const { placeable } = await this.nodes();
    const out: PlacementCandidate[] = placeable.filter((node) => node.id !== selfId).map(({ id, capacity, allocated }) => ({ id, capacity, allocated }));
    if (self) out.push(self);
    return out;
  }

  /** POSTs `body` to `path` on `node`: its answer, or the error it ended with (see PeerClient). */
  async post<T>(node: string, path: string, body: unknown, timeoutMs: number): Promise<T> {
    const address = await this.address(node);
    try {
      return await this.#client.post<T>(address, path, body, timeoutMs);
    } catch (err) {
      // It may have started again elsewhere: the next request reads the addresses again.
      if (err instanceof PeerUnreachable) this.#addresses.delete(node);
      throw err;
    }
  }

  /** The node's address (http://host:port); throws PeerUnreachable for a node that is not a live member. */
  async address(node: string): Promise<string> {
    let address = this.#addresses.get(node);
    if (address === undefined) {
      await this.nodes();
      address = this.#addresses.get(node);
      if (address === undefined) throw new PeerUnreachable(`node ${node} is not a live member of the cluster`);
    }
    return address;
  }

  /** Forgets the node's address (it could not be reached): the next request reads them again. */
  forget(node: string): void {
    this.#addresses.delete(node);
  }

  close(): Promise<void> {
    return this.#client.close();
  }
}
