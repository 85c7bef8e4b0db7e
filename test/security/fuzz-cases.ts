// Malformed requests for the fuzz test, drawn from a seeded generator so a failure can be replayed
// with the seed it prints. Each case aims at one way input goes wrong: bytes that are not what the
// content type says, odd and huge headers, prototype-poisoning JSON, path traversal and unicode
// in names and ids, and odd query strings.
import type { RouteEntry } from '../../dist/app.js';

/** mulberry32: small, fast and good enough to pick test cases. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let x = Math.imul(a ^ (a >>> 15), 1 | a);
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x;
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}

export interface FuzzCase {
  method: string;
  url: string;
  headers: Record<string, string>;
  payload?: Buffer | string;
}

type Pick = <T>(items: readonly T[]) => T;

const PARAM_VALUES = [
  'hello', // a real function, so some requests get past the lookup
  '..', '../../etc/passwd', '..%2F..%2Fetc%2Fpasswd', '%2e%2e%2f%2e%2e%2f', '....//....//', 'a%00b', '%00',
  'ünïcødé', '函数', '😀', 'Ω≈ç√', 'a'.repeat(300), 'ins_00000000000000000000', 'trg_ffffffffffffffffffff',
  '00000000-0000-0000-0000-000000000000', 'HELLO', '-dash', 'a b', '%20', '%ff%fe', '__proto__', 'constructor', 'prototype',
  'C:\\Windows\\win.ini', '/etc/shadow', '%252e%252e%252f', '.', 'null', 'undefined', '[]', '{}',
];

const CONTENT_TYPES = [
  'application/json', 'application/json; charset=utf-16', 'application/problem+json', 'text/plain', 'text/html',
  'application/typescript', 'application/javascript', 'application/x-www-form-urlencoded', 'application/octet-stream',
  'application/zip', 'application/gzip', 'multipart/form-data', 'multipart/form-data; boundary=', 'multipart/form-data; boundary=xyz',
  'image/png', '*/*', '', ';;;', 'application/json;;charset', 'x'.repeat(2000), 'application/\u00e9', 'text/plain; charset=klingon',
];

const JSON_BODIES = [
  '{"__proto__":{"polluted":"yes"}}', '{"constructor":{"prototype":{"polluted":"yes"}}}', '[{"__proto__":{"polluted":1}}]',
  '{"a":', '{', '[', 'nul', '"unterminated', '1e999999', '-', '{"a":1,"a":2}', '\ufeff{}', '{"\u0000":"\u0000"}',
  `${'['.repeat(20000)}${']'.repeat(20000)}`, `{"s":"${'x'.repeat(100_000)}"}`, 'null', 'true', '0', '""', '[]', '{}',
  '{"class":"Counter","args":[1e308,-1e308],"resources":{"cpu":-1,"memory":1e20}}', '{"name":"../../x","instances":[{"function":"../x"}]}',
  '{"type":"webhook","scheme":"github","secret":""}', '{"type":"cron","schedule":"* * * * * * * *"}', '{"activeVersion":-1}',
  '{"API_KEY":{"nested":true}}', '{"instances":[]}',
];

const QUERIES = ['', '?wait=-1', '?wait=1e309', '?wait=abc', '?version=0', '?version=-1', '?version=1.5', '?limit=0', '?limit=99999999999',
  '?async=maybe', '?status=exploded', '?function=../../x', '?before=%00', '?a=1&a=2&a=3', '?__proto__[x]=1', '?constructor[prototype][x]=1',
  `?q=${'z'.repeat(5000)}`, '?%zz=1'];

const METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'HEAD'];

function randomBytes(random: () => number, length: number): Buffer {
  const bytes = Buffer.alloc(length);
  for (let i = 0; i < length; i++) bytes[i] = Math.floor(random() * 256);
  return bytes;
}

function body(random: () => number, pick: Pick): Buffer | string | undefined {
  const kind = Math.floor(random() * 6);
  if (kind === 0) return undefined;
  if (kind === 1) return randomBytes(random, Math.floor(random() * 2048));
  if (kind === 2) return Buffer.concat([Buffer.from(pick(['PK\x03\x04', '\x1f\x8b\x08', '--xyz\r\n', '\xef\xbb\xbf'])), randomBytes(random, 64)]);
  if (kind === 3) return `--xyz\r\nContent-Disposition: form-data; name="${pick(['code', 'config', '../x', '\u0000'])}"; filename="${pick(PARAM_VALUES)}"\r\n\r\n${pick(JSON_BODIES)}\r\n--xyz--`;
  return pick(JSON_BODIES);
}

function headers(random: () => number, pick: Pick): Record<string, string> {
  const out: Record<string, string> = {};
  if (random() < 0.85) out['content-type'] = pick(CONTENT_TYPES);
  if (random() < 0.2) out['x-callback-url'] = pick(['http://127.0.0.1:1/', 'file:///etc/passwd', 'javascript:alert(1)', 'not a url', 'http://[::1', '']);
  if (random() < 0.2) out['idempotency-key'] = pick(['', ' ', 'k'.repeat(300), 'ключ', 'same-key']);
  if (random() < 0.15) out['authorization'] = pick(['Bearer', 'Bearer ', 'Basic abc', 'Bearer a b', `Bearer ${'t'.repeat(4000)}`]);
  if (random() < 0.1) out['x-huge'] = 'h'.repeat(Math.floor(random() * 12_000));
  if (random() < 0.1) out['content-encoding'] = pick(['gzip', 'br', 'deflate', 'identity, gzip', 'bogus']);
  if (random() < 0.1) out['x-hub-signature-256'] = pick(['sha256=', 'sha256=zz', `sha256=${'0'.repeat(64)}`]);
  if (random() < 0.1) out['stripe-signature'] = pick(['t=,v1=', 't=1,v1=00', 'garbage']);
  if (random() < 0.05) out['transfer-encoding'] = 'chunked';
  return out;
}

/** One fuzz case against one of `routes`. */
export function fuzzCase(random: () => number, routes: readonly RouteEntry[]): FuzzCase {
  const pick: Pick = (items) => items[Math.floor(random() * items.length)]!;
  const route = pick(routes);
  const path = route.url.replace(/:(\w+)/g, () => encodeURIComponent(pick(PARAM_VALUES)).replace(/%25/g, random() < 0.5 ? '%' : '%25')).replace(/\*$/, () => pick(PARAM_VALUES));
  const method = random() < 0.85 ? route.method : pick(METHODS);
  const payload = method === 'GET' || method === 'HEAD' ? undefined : body(random, pick);
  return { method, url: path + pick(QUERIES), headers: headers(random, pick), ...(payload === undefined ? {} : { payload }) };
}
