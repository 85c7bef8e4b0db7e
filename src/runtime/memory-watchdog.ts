// The off-heap watchdog of an instance thread: one instance per thread, so past the limit the
// thread itself is at fault. It throws from a timer: an uncaught error ends the thread, its
// calls are reported as crashed with this message, and the instance restarts per its policy.
// (Pool workers, shared by functions, blame the call instead: see worker-entry.ts.)
import { OffHeapLimit } from './off-heap-memory.js';

export function watchOffHeapMemory(limitMb: number, intervalMs: number, owner: string): void {
  const limit = new OffHeapLimit(limitMb);
  const timer = setInterval(() => {
    const overMb = limit.overBy();
    if (overMb === 0) return;
    clearInterval(timer);
    throw new Error(`${limit.describe(overMb, owner)}; the worker was recycled`);
  }, intervalMs);
  // Never keeps a worker alive on its own.
  timer.unref();
}
