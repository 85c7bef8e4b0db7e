// The launcher knows its processes by pid and start time: a pid that now belongs to another
// process (after a reboot, or reused) is not taken for one of them.
import t from 'tap';
import { processStart, running } from '../../dist/cli/cluster-state.js';

t.test('a process is the one recorded only with the same start time', async (t) => {
  const start = processStart(process.pid);
  t.match(start, /^\d+$/, 'read from /proc');
  t.equal(running(process.pid, start), true);
  t.equal(running(process.pid, `${Number(start) + 1}`), false, 'same pid, another start: another process');
  t.equal(running(2 ** 22 + 1, null), false, 'no such pid');
  t.equal(running(process.pid, null), true, 'without a start time (no /proc), the pid alone decides');
});
