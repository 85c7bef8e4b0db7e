// The node's resources for instances: what it offers (from config) and what running instances
// hold. Admission is a pure check (shortfall) plus a bookkeeping step (reserve / release).
import { WispError } from '../errors.js';

export interface Resources {
  /** Millicores. */
  cpu: number;
  /** MiB. */
  memory: number;
  custom: Record<string, number>;
}

/**
 * MiB of a machine's memory left out of what instances may reserve when `node.memory` is not set:
 * the larger of 512 MiB and an eighth of it (but at most half). Instance reservations are heap
 * caps, so a node handing all its memory to instances would leave nothing for what is not
 * reserved at all: the gateway thread itself (its heap, request bodies and results in flight,
 * the synchronous call history, SQLite's cache), the stateless pool's workers (started on
 * demand, each up to its function's memoryMb), the warm instance threads (up to instances.warmThreads, ~6 MB each), every
 * thread's own overhead, and the operating system. 512 MiB holds the gateway and a busy default
 * pool tier on a small machine; an eighth grows with machines that run more pool threads.
 */
export function gatewayHeadroomMb(totalMb: number): number {
  return Math.min(Math.floor(totalMb / 2), Math.max(512, Math.floor(totalMb / 8)));
}

/** How much of each resource is missing for a request; empty when it fits. */
export function shortfall(capacity: Resources, allocated: Resources, request: Resources): Partial<Resources> {
  const short: Partial<Resources> = {};
  const cpu = allocated.cpu + request.cpu - capacity.cpu;
  if (cpu > 0) short.cpu = cpu;
  const memory = allocated.memory + request.memory - capacity.memory;
  if (memory > 0) short.memory = memory;
  for (const [name, amount] of Object.entries(request.custom)) {
    const missing = (allocated.custom[name] ?? 0) + amount - (capacity.custom[name] ?? 0);
    if (missing > 0) (short.custom ??= {})[name] = missing;
  }
  return short;
}

export function describeShortfall(capacity: Resources, allocated: Resources, request: Resources, short: Partial<Resources>): string {
  const parts: string[] = [];
  const free = (total: number, used: number) => Math.max(0, total - used);
  if (short.cpu) parts.push(`cpu: asked ${request.cpu} millicores, ${free(capacity.cpu, allocated.cpu)} of ${capacity.cpu} free (short by ${short.cpu})`);
  if (short.memory) parts.push(`memory: asked ${request.memory} MiB, ${free(capacity.memory, allocated.memory)} of ${capacity.memory} free (short by ${short.memory})`);
  for (const [name, missing] of Object.entries(short.custom ?? {})) {
    const total = capacity.custom[name] ?? 0;
    const declared = name in capacity.custom ? `${free(total, allocated.custom[name] ?? 0)} of ${total} free` : 'not offered by this node';
    parts.push(`${name}: asked ${request.custom[name]}, ${declared} (short by ${missing})`);
  }
  return parts.join('; ');
}

/** A held reservation; release() gives it back once, however often it is called. */
export interface Reservation {
  readonly resources: Resources;
  release(): void;
}

export class NodeResources {
  readonly capacity: Resources;
  readonly #allocated: Resources = { cpu: 0, memory: 0, custom: {} };

  constructor(capacity: Resources) {
    this.capacity = capacity;
  }

  get allocated(): Resources {
    return { cpu: this.#allocated.cpu, memory: this.#allocated.memory, custom: { ...this.#allocated.custom } };
  }

  /** Reserves the request or throws 503 INSUFFICIENT_RESOURCES naming what is short and by how much. */
  reserve(request: Resources): Reservation {
    const short = shortfall(this.capacity, this.#allocated, request);
    if (Object.keys(short).length > 0) {
      throw new WispError('INSUFFICIENT_RESOURCES', `not enough resources on this node: ${describeShortfall(this.capacity, this.#allocated, request, short)}`, {
        shortfall: short,
      });
    }
    this.#apply(request, 1);
    let held = true;
    return {
      resources: request,
      release: () => {
        if (!held) return;
        held = false;
        this.#apply(request, -1);
      },
    };
  }

  /**
   * Reserves every request or none (gang admission): the shortfall is computed for their sum, so
   * a group that cannot fit as a whole takes nothing.
   */
  reserveAll(requests: Resources[]): Reservation[] {
    const total: Resources = { cpu: 0, memory: 0, custom: {} };
    for (const request of requests) {
      total.cpu += request.cpu;
      total.memory += request.memory;
      for (const [name, amount] of Object.entries(request.custom)) total.custom[name] = (total.custom[name] ?? 0) + amount;
    }
    this.reserve(total).release(); // throws, naming the shortfall of the whole, if it does not fit
    return requests.map((request) => this.reserve(request));
  }

  #apply(request: Resources, sign: 1 | -1): void {
    this.#allocated.cpu += sign * request.cpu;
    this.#allocated.memory += sign * request.memory;
    for (const [name, amount] of Object.entries(request.custom)) {
      const next = (this.#allocated.custom[name] ?? 0) + sign * amount;
      if (next === 0) delete this.#allocated.custom[name];
      else this.#allocated.custom[name] = next;
    }
  }
}
