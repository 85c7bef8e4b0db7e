// Buffers and ArrayBuffers live outside the V8 heap, so a worker's resourceLimits do not bound
// them: a function could fill the machine's memory with Buffer.alloc(). Each worker therefore
// checks its own isolate's off-heap (external) memory on a timer. Past the limit it throws from
// the timer: an uncaught error ends the thread, the pool reports its tasks as crashed with this
// message, and a fresh thread takes its place. Process RSS cannot be used: threads share it.
import { getHeapStatistics } from 'node:v8';

export function watchOffHeapMemory(limitMb: number, intervalMs: number, owner: string): void {
  const limit = limitMb * 2 ** 20;
  const timer = setInterval(() => {
    const used = getHeapStatistics().external_memory;
    if (used <= limit) return;
    clearInterval(timer);
    const usedMb = Math.round(used / 2 ** 20);
    throw new Error(`${owner} held ${usedMb} MB of Buffer memory (outside the heap), past its ${limitMb} MB memory limit; the worker was recycled`);
  }, intervalMs);
  // Never keeps a worker alive on its own.
  timer.unref();
}
