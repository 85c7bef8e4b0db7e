// Invocation and batch ids are UUIDv7 (RFC 9562): the creation time in their first 48 bits, so
// the embedded store appends them to its indexes instead of scattering inserts.
import t from 'tap';
import { timeOrderedId } from '../../dist/common/time-ordered-id.js';
import { mustSubmit } from '../helpers/invocations.js';
import { mustDeploy, startWisp } from '../helpers/wisp.js';

const V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const timeOf = (id: string) => parseInt(id.replace(/-/g, '').slice(0, 12), 16);

t.test('an id is a UUIDv7 carrying the time it was made at', async (t) => {
  const at = Date.UTC(2026, 11, 4, 12, 30, 15, 123);
  const id = timeOrderedId(at);
  t.match(id, V7);
  t.equal(timeOf(id), at);
  t.equal(timeOrderedId(0).slice(0, 14), '00000000-0000-', 'the time is padded to 48 bits');
});

t.test('ids made later sort after earlier ones, and ids made at once differ', async (t) => {
  const earlier = timeOrderedId(1_700_000_000_000);
  const later = timeOrderedId(1_700_000_000_001);
  t.ok(earlier < later, `${earlier} < ${later}`);
  const same = new Set(Array.from({ length: 1000 }, () => timeOrderedId(1_700_000_000_000)));
  t.equal(same.size, 1000, 'the random bits tell apart ids of one millisecond');
});

t.test('asynchronous invocations get time-ordered ids', async (t) => {
  const app = await startWisp(t);
  await mustDeploy(t, app, 'echo', 'export default (x: unknown) => x;');
  const before = Date.now();
  const ids = [];
  for (let i = 0; i < 5; i++) ids.push(await mustSubmit(t, app, 'echo', i));
  const after = Date.now();
  for (const id of ids) {
    t.match(id, V7);
    t.ok(timeOf(id) >= before && timeOf(id) <= after, `${id} was made during the submissions`);
  }
});
