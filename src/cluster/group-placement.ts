// Where the members of a group go (a pure function, design §5.4): first-fit decreasing over the
// live nodes' free resources, the largest member first. `pack` puts each member on the fullest
// node it still fits on (the group on as few nodes as it takes, this node first among equals);
// `spread` puts it on the node holding the fewest of this group's members so far, then the one
// with the most room. Either way every member fits where it goes, counting the members placed
// before it, or the answer says what each node lacks for the member that did not fit.
import { describeShortfall, shortfall, type Resources } from '../scheduler/node-resources.js';
import type { NodeShortfall, PlacementCandidate } from './placement.js';

export type GroupPlacementPolicy = 'pack' | 'spread';

export type GroupPlacement = { ok: true; nodes: string[] } | { ok: false; member: number; shortfalls: NodeShortfall[] };

/** The fullest of cpu and memory, 0 to 1. */
function used(node: PlacementCandidate): number {
  const part = (taken: number, total: number) => (total > 0 ? taken / total : 0);
  return Math.max(part(node.allocated.cpu, node.capacity.cpu), part(node.allocated.memory, node.capacity.memory));
}

function add(allocated: Resources, request: Resources): Resources {
  const custom = { ...allocated.custom };
  for (const [name, amount] of Object.entries(request.custom)) custom[name] = (custom[name] ?? 0) + amount;
  return { cpu: allocated.cpu + request.cpu, memory: allocated.memory + request.memory, custom };
}

/** The size a member is sorted by: its larger share of one node's cpu or memory. */
const size = (request: Resources) => request.cpu / 1000 + request.memory / 1024;

/** One node per member, in the members' order; or which member fitted nowhere, and why. */
export function placeGroup(candidates: PlacementCandidate[], requests: Resources[], policy: GroupPlacementPolicy, self: string): GroupPlacement {
  const nodes = candidates.map((node) => ({ ...node, allocated: { ...node.allocated, custom: { ...node.allocated.custom } }, members: 0 }));
  const order = requests.map((_, index) => index).sort((a, b) => size(requests[b]!) - size(requests[a]!) || a - b);
  const chosen: string[] = new Array<string>(requests.length);
  for (const index of order) {
    const request = requests[index]!;
    const fitting = nodes.filter((node) => Object.keys(shortfall(node.capacity, node.allocated, request)).length === 0);
    if (fitting.length === 0) {
      return {
        ok: false,
        member: index,
        shortfalls: nodes.map((node) => {
          const short = shortfall(node.capacity, node.allocated, request);
          return { node: node.id, short, detail: describeShortfall(node.capacity, node.allocated, request, short) };
        }),
      };
    }
    const selfFirst = (a: { id: string }, b: { id: string }) => (a.id === self ? -1 : b.id === self ? 1 : a.id.localeCompare(b.id));
    fitting.sort(policy === 'pack' ? (a, b) => used(b) - used(a) || selfFirst(a, b) : (a, b) => a.members - b.members || used(a) - used(b) || selfFirst(a, b));
    const node = fitting[0]!;
    node.allocated = add(node.allocated, request);
    node.members++;
    chosen[index] = node.id;
  }
  return { ok: true, nodes: chosen };
}
