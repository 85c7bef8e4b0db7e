// Buffers and ArrayBuffers live outside the V8 heap, so a worker's resourceLimits do not bound
// them: a function could fill the machine's memory with Buffer.alloc(). This measures a thread's
// own isolate's off-heap (external) memory against its limit. Process RSS cannot be used: threads
// share it. Before it says "over", it collects garbage once: buffers a finished call dropped are
// still counted until a collection runs, and they are not a fault.
import { getHeapStatistics, setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

// The usual way to reach gc() without starting Node with --expose-gc: the flag applies to
// contexts made after it is set, and the function it exposes collects this thread's isolate.
setFlagsFromString('--expose-gc');
// The context is made when first needed: making one took ~0.7-1.9 ms of every thread's boot
// (a cold instance create, each member of a group), and most threads never near their limit.
let gc: (() => void) | undefined;
const collect = (): void => (gc ??= runInNewContext('gc') as () => void)();

export const MB = 2 ** 20;

export function offHeapBytes(): number {
  return getHeapStatistics().external_memory;
}

export class OffHeapLimit {
  readonly limitMb: number;
  readonly #limit: number;

  constructor(limitMb: number) {
    this.limitMb = limitMb;
    this.#limit = limitMb * MB;
  }

  /** How many MB over the limit this thread holds after a collection, or 0 when it is within. */
  overBy(extraBytes = 0): number {
    if (offHeapBytes() + extraBytes <= this.#limit) return 0;
    collect();
    const used = offHeapBytes() + extraBytes;
    return used <= this.#limit ? 0 : Math.round(used / MB);
  }

  describe(usedMb: number, owner: string): string {
    return `${owner} held ${usedMb} MB of Buffer memory (outside the heap), past its ${this.limitMb} MB memory limit`;
  }
}

/**
 * Makes Buffer.alloc, allocUnsafe and allocUnsafeSlow check the limit before they allocate, so a
 * synchronous `Buffer.alloc(3 GB)` is refused on the spot, without waiting for a timer or for
 * the call to end. `onRefused` hears of it (the call is at fault even if it catches the error).
 * Typed arrays and ArrayBuffers are not wrapped (their constructors' identity matters to code
 * that checks `value.constructor === Uint8Array`); they are caught at the call's end instead.
 */
export function guardBufferAllocation(limit: OffHeapLimit, onRefused: (message: string) => void): void {
  // Small allocations skip the check: they cannot pass any limit on their own.
  const checkedFrom = MB;
  for (const name of ['alloc', 'allocUnsafe', 'allocUnsafeSlow'] as const) {
    const original = Buffer[name] as (size: number, ...rest: unknown[]) => Buffer;
    const guarded = function (this: unknown, size: number, ...rest: unknown[]): Buffer {
      if (typeof size === 'number' && size >= checkedFrom) {
        const overMb = limit.overBy(size);
        if (overMb > 0) {
          const message = `Buffer.${name}(${size}) would hold ${overMb} MB outside the heap, past the function's ${limit.limitMb} MB memory limit`;
          onRefused(message);
          throw Object.assign(new RangeError(message), { code: 'ERR_WISP_MEMORY_LIMIT' });
        }
      }
      return original.call(this, size, ...rest);
    };
    Object.defineProperty(guarded, 'name', { value: name });
    (Buffer as unknown as Record<string, unknown>)[name] = guarded;
  }
}
