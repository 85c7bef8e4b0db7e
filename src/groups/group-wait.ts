// `GET /v1/groups/{name}?wait=SECONDS` (yr.Group.wait()): the group once it is running or has
// failed, or as it is when the wait runs out. A group that does not exist is 404 at once, as an
// unknown invocation's long-poll is (a group's create answers only once it exists, and a wait on
// every name anyone might type would hold requests open for nothing). The group is read again every
// POLL_MS: reading it is cheap, wherever its home node is, and a group's changes have no event a
// reader on any node can await.
import type { GroupView } from './group-manager.js';

const POLL_MS = 100;
const settled = (group: GroupView) => group.status === 'running' || group.status === 'failed';

export async function waitForGroup(read: (name: string) => Promise<GroupView>, name: string, seconds: number, stop: AbortSignal): Promise<GroupView> {
  const deadline = Date.now() + seconds * 1000;
  for (;;) {
    // GROUP_NOT_FOUND (it never existed, or was deleted meanwhile) ends the wait.
    const group = await read(name);
    if (settled(group) || Date.now() >= deadline || stop.aborted) return group;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(done, Math.min(POLL_MS, Math.max(0, deadline - Date.now())));
      function done() {
        clearTimeout(timer);
        stop.removeEventListener('abort', done);
        resolve();
      }
      stop.addEventListener('abort', done, { once: true });
    });
  }
}
