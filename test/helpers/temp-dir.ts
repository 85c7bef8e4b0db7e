// Data dirs for tests, in the OS temp dir, removed when the test process exits. Not tap's
// fixture dirs: tap deletes one when its test ends, which can come before an app's close has
// finished writing into it (the checkpoints of a graceful stop), so the removal failed with
// ENOTEMPTY or left blobs behind in .tap/fixtures. At exit every app is closed.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const made: string[] = [];
process.on('exit', () => {
  for (const dir of made) rmSync(dir, { recursive: true, force: true });
});

/** A new empty directory, each call its own. */
export function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'wisp-test-'));
  made.push(dir);
  return dir;
}
