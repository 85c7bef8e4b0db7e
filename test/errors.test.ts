import t from 'tap';
import { catalogue, deserializeError, serializeError, WispError } from '../dist/errors.js';
import { assertProblem, startWisp } from './helpers/wisp.js';

t.test('catalogue codes are stable UPPER_SNAKE with an HTTP error status', async (t) => {
  for (const [code, entry] of Object.entries(catalogue)) {
    t.match(code, /^[A-Z][A-Z0-9_]+$/);
    t.ok(entry.status >= 400 && entry.status < 600, `${code} has an error status`);
    t.ok(entry.title.length > 0);
  }
});

t.test('WispError carries the status of its code', async (t) => {
  const err = new WispError('FUNCTION_NOT_FOUND', 'no function named "x"');
  t.equal(err.status, 404);
  t.equal(err.title, catalogue.FUNCTION_NOT_FOUND.title);
});

t.test('errors cross threads as data and keep name, code and stack', async (t) => {
  const original = Object.assign(new RangeError('too far'), { code: 'E_FAR' });
  const rebuilt = deserializeError(structuredClone(serializeError(original))) as Error & { code?: string };
  t.equal(rebuilt.name, 'RangeError');
  t.equal(rebuilt.message, 'too far');
  t.equal(rebuilt.code, 'E_FAR');
  t.equal(rebuilt.stack, original.stack);
  t.same(serializeError('a string'), { name: 'Error', message: 'non-error value thrown: a string' });
});

t.test('an unknown route is a problem-details 404', async (t) => {
  const app = await startWisp(t);
  const body = assertProblem(t, await app.inject('/nope'), 404, 'ROUTE_NOT_FOUND');
  t.equal(body.type, 'urn:wisp:problem:route-not-found');
  t.equal(body.instance, '/nope');
});
