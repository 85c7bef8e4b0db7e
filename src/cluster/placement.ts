// Where a new instance goes (a pure function, design §5.4): like Ray's default ("hybrid")
// policy, on the node that was asked while it stays at most half used, so that a call needs
// no hop; past that, on the node with the most room left, so that load spreads. Only live
// nodes that peers can reach are candidates. When no node has room, the answer says what each
// node lacks.
import { describeShortfall, shortfall, type Resources } from '../scheduler/node-resources.js';

export interface PlacementCandidate {
  id: string;
  capacity: Resources;
  allocated: Resources;
}

export interface NodeShortfall {
  node: string;
  short: Partial<Resources>;
  /** What is short, said as for one node ("cpu: asked 500 millicores, 200 of 1000 free (short by 300)"). */
  detail: string;
}

export type Placement = { ok: true; order: string[] } | { ok: false; shortfalls: NodeShortfall[] };

/** How full a node would be with `request` added: the fullest of cpu and memory, 0 to 1. */
function utilization(node: PlacementCandidate, request: Resources): number {
  const part = (used: number, total: number) => (total > 0 ? used / total : used > 0 ? Infinity : 0);
  return Math.max(part(node.allocated.cpu + request.cpu, node.capacity.cpu), part(node.allocated.memory + request.memory, node.capacity.memory));
}

/** The threshold below which the asked node keeps what it is asked for (Ray's is 0.5 too). */
export const LOCAL_UTILIZATION = 0.5;

/**
 * The nodes to try, best first (the next ones are for when the first turns out full, its view
 * of resources being a heartbeat old); or, when none has room, each node's shortfall.
 */
export function placeInstance(candidates: PlacementCandidate[], request: Resources, self: string): Placement {
  const fitting = candidates.filter((node) => Object.keys(shortfall(node.capacity, node.allocated, request)).length === 0);
  if (fitting.length === 0) {
    return {
      ok: false,
      shortfalls: candidates.map((node) => {
        const short = shortfall(node.capacity, node.allocated, request);
        return { node: node.id, short, detail: describeShortfall(node.capacity, node.allocated, request, short) };
      }),
    };
  }
  const local = fitting.find((node) => node.id === self);
  const byRoom = [...fitting].sort((a, b) => utilization(a, request) - utilization(b, request) || (a.id === self ? -1 : b.id === self ? 1 : a.id.localeCompare(b.id)));
  if (local && utilization(local, request) <= LOCAL_UTILIZATION) return { ok: true, order: [local.id, ...byRoom.filter((node) => node !== local).map((node) => node.id)] };
  return { ok: true, order: byRoom.map((node) => node.id) };
}

/** One line per node of what it lacks, for INSUFFICIENT_RESOURCES. */
export function describeShortfalls(shortfalls: NodeShortfall[]): string {
  if (shortfalls.length === 0) return 'no live node can take instances';
  return shortfalls.map(({ node, detail }) => `node ${node}: ${detail}`).join('; ');
}
