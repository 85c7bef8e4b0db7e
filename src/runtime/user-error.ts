// How an error from user code appears in a problem document: its name, its message, and the
// user's own stack frames. Wisp's entry files (the pool worker's and the instance thread's, the
// latter bundled to .cjs) and every frame below them say nothing about the user's bug.
import type { SerializedError } from '../errors.js';

const WISP_ENTRY_FRAME = /\/runtime\/(?:worker|instance)-entry\.c?js:/;

export function userStack(stack: string): string {
  const lines = stack.split('\n');
  const ours = lines.findIndex((line) => WISP_ENTRY_FRAME.test(line));
  return (ours === -1 ? lines : lines.slice(0, ours)).join('\n');
}

/** The `error` extension of a problem document for an error thrown by user code. */
export function userErrorExtension(error: SerializedError): { error: { name: string; message: string; stack?: string } } {
  return { error: { name: error.name, message: error.message, ...(error.stack ? { stack: userStack(error.stack) } : {}) } };
}
