// Whether a process id names a live process: signal 0 checks without sending anything. EPERM
// means it exists but is another user's.

export function processExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code !== 'ESRCH';
  }
}
