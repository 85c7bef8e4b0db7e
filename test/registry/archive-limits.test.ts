// Containment of uploaded archives: a bomb is stopped at the unpack limit while it inflates, an
// entry that climbs out of the unpack dir is a 400, and after every hostile upload the gateway
// and a function deployed before it go on answering.
import t, { type Test } from 'tap';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { strToU8, zipSync } from 'fflate';
import { unpackArchive } from '../../dist/registry/archive.js';
import { projectWithDependency, tarGz, zip, type FileTree } from '../helpers/archives.js';
import { assertProblem, deploy, invoke, startWisp, type App } from '../helpers/wisp.js';
import { tempDir } from '../helpers/temp-dir.js';

const MiB = 2 ** 20;
// Uploads up to 8 MiB, so archives unpack to at most 32 MiB (uploadBytes * 4, see app.ts).
const UPLOAD_BYTES = 8 * MiB;
const MAX_UNPACKED = UPLOAD_BYTES * 4;

// ---- archives written by hand, the way a hostile client could -------------------------------

/** A ustar header block: `type` '0' is a file, '5' a folder. */
function tarHeader(name: string, size: number, type = '0'): Buffer {
  const h = Buffer.alloc(512);
  h.write(name, 0, 100, 'utf8');
  h.write('0000644\0', 100);
  h.write('0000000\0', 108);
  h.write('0000000\0', 116);
  h.write(`${size.toString(8).padStart(11, '0')}\0`, 124);
  h.write('00000000000\0', 136);
  h.write('        ', 148);
  h.write(type, 156);
  h.write('ustar\0', 257);
  h.write('00', 263);
  let sum = 0;
  for (const byte of h) sum += byte;
  h.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148);
  return h;
}

function tarFile(name: string, text: string): Buffer {
  const body = Buffer.from(text);
  return Buffer.concat([tarHeader(name, body.length), body, Buffer.alloc((512 - (body.length % 512)) % 512)]);
}

const tarEnd = Buffer.alloc(1024);
const handler = 'export default () => "pwned";\n';
const tgz = (...blocks: Buffer[]): Buffer => gzipSync(Buffer.concat([...blocks, tarEnd]));

// 64 MiB of zeros gzip to ~64 KB; gzip members may be concatenated, so 64 copies of one member
// are 4 GiB of inflated zeros in ~4 MB, built in a fraction of a second.
const MEMBER_BYTES = 64 * MiB;
let zerosMember: Buffer | undefined;
function zeros(bytes: number): Buffer {
  zerosMember ??= gzipSync(Buffer.alloc(MEMBER_BYTES), { level: 9 });
  return Buffer.concat(Array.from({ length: bytes / MEMBER_BYTES }, () => zerosMember as Buffer));
}

/** A zip whose local and central headers both say `name` unpacks to `declared` bytes. */
function lyingZip(files: Record<string, Uint8Array>, name: string, declared: number): Buffer {
  const bytes = Buffer.from(zipSync(files, { level: 1 }));
  const wanted = Buffer.from(name);
  for (const [signature, nameAt, sizeAt] of [[0x04034b50, 30, 22], [0x02014b50, 46, 24]] as const) {
    for (let at = 0; at + nameAt + wanted.length <= bytes.length; at++) {
      if (bytes.readUInt32LE(at) === signature && bytes.subarray(at + nameAt, at + nameAt + wanted.length).equals(wanted)) {
        bytes.writeUInt32LE(declared, at + sizeAt);
      }
    }
  }
  return bytes;
}

// ---- the set-up every case shares --------------------------------------------------------------

interface Setup {
  app: App;
  dataDir: string;
}

/** A Wisp with a function deployed the ordinary way, from a tar.gz of a project folder. */
async function withSteadyFunction(t: Test): Promise<Setup> {
  const dataDir = tempDir();
  const app = await startWisp(t, { limits: { uploadBytes: UPLOAD_BYTES } }, dataDir);
  const folder = Object.fromEntries(Object.entries(projectWithDependency).map(([path, text]) => [`my-fn/${path}`, text]));
  const res = await deploy(app, 'steady', await tarGz(folder), 'application/gzip');
  t.equal(res.statusCode, 201, `the ordinary project deploys (${res.body.slice(0, 200)})`);
  return { app, dataDir };
}

function filesUnder(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => !e.isDirectory())
    .map((e) => join(e.parentPath, e.name));
}

const escaped = (text: string): string => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const outside = (entry: string): RegExp => new RegExp(`^the archive entry ${escaped(JSON.stringify(entry))} points outside the archive$`);
// Short, as a tar header's name field holds 100 bytes; checked to be absent before and after.
const absolute = join(tmpdir(), `wisp-abs-evil-${process.pid}.js`);

/** The hostile upload was refused as a bad archive, and nothing else was harmed. */
async function assertRefused(t: Test, { app, dataDir }: Setup, name: string, upload: Buffer, contentType: string, detail: RegExp): Promise<void> {
  const body = assertProblem(t, await deploy(app, name, upload, contentType), 400, 'INVALID_ARCHIVE');
  t.match(body.detail, detail, 'the detail says what is wrong with the archive');
  t.equal((await app.inject(`/v1/functions/${name}`)).statusCode, 404, 'no version was stored');
  t.equal((await app.inject('/healthz')).statusCode, 200, 'the gateway answers');
  const call = await invoke(app, 'steady', { text: 'still here' });
  t.equal(call.statusCode, 200, call.body);
  t.same(call.json(), { out: 'STILL HERE!' }, 'a function deployed before answers correctly');
  const leaked = filesUnder(dataDir).filter((path) => /evil/.test(path));
  t.same(leaked, [], 'no entry was written anywhere under the data dir');
  t.same(readdirSync(join(dataDir, 'scratch')), [], 'the unpack dir was removed, with nothing left in it');
}

// ---- the cases -----------------------------------------------------------------------------------

t.test('archives made the ordinary way still deploy: a zip and a tar.gz of a project folder', async (t) => {
  const setup = await withSteadyFunction(t);
  const files: FileTree = { ...projectWithDependency, 'README.md': 'my function\n', 'src/empty.txt': '' };
  for (const [name, upload, type] of [
    ['from-zip', zip(files), 'application/zip'],
    ['from-tgz', await tarGz(files), 'application/gzip'],
  ] as const) {
    const res = await deploy(setup.app, name, upload, type);
    t.equal(res.statusCode, 201, res.body);
    t.same((await invoke(setup.app, name, { text: 'ok' })).json(), { out: 'OK!' });
  }
  t.same(readdirSync(join(setup.dataDir, 'scratch')), [], 'nothing is left behind after a deploy');
});

t.test('a tar.gz bomb of one 4 GiB entry is refused at the limit', async (t) => {
  const setup = await withSteadyFunction(t);
  const bomb = Buffer.concat([gzipSync(tarHeader('index.js', 4 * 2 ** 30)), zeros(4 * 2 ** 30), gzipSync(tarEnd)]);
  t.ok(bomb.length < UPLOAD_BYTES, `the bomb (${bomb.length} bytes) is within the upload limit`);
  await assertRefused(t, setup, 'bomb', bomb, 'application/gzip', new RegExp(`^the archive unpacks to more than ${MAX_UNPACKED} bytes$`));
});

t.test('a tar.gz with honest headers and 4 GiB of zeros after them is stopped by counting inflated bytes', async (t) => {
  const setup = await withSteadyFunction(t);
  const bomb = Buffer.concat([gzipSync(Buffer.concat([tarFile('index.js', handler), tarEnd])), zeros(4 * 2 ** 30)]);
  await assertRefused(t, setup, 'padded', bomb, 'application/gzip', new RegExp(`^the archive unpacks to more than ${MAX_UNPACKED} bytes$`));
});

t.test('a tar.gz gzipped a second time is refused, not inflated by tar behind the limit', async (t) => {
  const setup = await withSteadyFunction(t);
  const twice = gzipSync(tgz(tarFile('index.js', handler)));
  await assertRefused(t, setup, 'twice', twice, 'application/gzip', /gzip inside a gzip/);
});

t.test('tar.gz entries that climb out or are absolute are 400, and nothing lands outside', async (t) => {
  const setup = await withSteadyFunction(t);
  t.notOk(existsSync(absolute), 'the absolute entry is not there to begin with');
  const cases: Array<[string, Buffer, string]> = [
    ['climb', tgz(tarFile('index.js', handler), tarFile('../../../evil.js', handler)), '../../../evil.js'],
    ['climb-first', tgz(tarFile('../evil.js', handler), tarFile('index.js', handler)), '../evil.js'],
    ['climb-inside', tgz(tarFile('index.js', handler), tarFile('lib/../../../evil.js', handler)), 'lib/../../../evil.js'],
    ['climb-folder', tgz(tarHeader('../../evil/', 0, '5'), tarFile('index.js', handler)), '../../evil/'],
    ['absolute', tgz(tarFile('index.js', handler), tarFile(absolute, handler)), absolute],
  ];
  for (const [name, upload, entry] of cases) {
    await assertRefused(t, setup, name, upload, 'application/gzip', outside(entry));
  }
  t.notOk(existsSync(absolute), 'the absolute entry was not written');
});

t.test('a zip whose headers understate an entry is refused once it passes the declared size', async (t) => {
  const setup = await withSteadyFunction(t);
  // 64 MiB of zeros, more than the 32 MiB limit, declared as 100 bytes: the declared total passes.
  const liar = lyingZip({ 'index.js': strToU8(handler), 'big.bin': new Uint8Array(64 * MiB) }, 'big.bin', 100);
  await assertRefused(t, setup, 'liar', liar, 'application/zip', /^the archive entry "big\.bin" unpacks to more than the 100 bytes its header declares$/);
  // Overstated, the entry is damaged too, rather than padded or cut without a word.
  const padded = lyingZip({ 'index.js': strToU8(handler), 'small.txt': strToU8('x'.repeat(5000)) }, 'small.txt', 6000);
  await assertRefused(t, setup, 'padded', padded, 'application/zip', /^the archive entry "small\.txt" is damaged: it unpacks to 5000 bytes, its header declares 6000$/);
});

t.test('a zip that honestly declares more than the limit is refused before inflating', async (t) => {
  const setup = await withSteadyFunction(t);
  const big = zipSync({ 'index.js': strToU8(handler), 'big.bin': new Uint8Array(MAX_UNPACKED) }, { level: 1 });
  await assertRefused(t, setup, 'big', Buffer.from(big), 'application/zip', new RegExp(`^the archive unpacks to more than ${MAX_UNPACKED} bytes$`));
});

t.test('zip entries that climb out or are absolute are 400, and nothing lands outside', async (t) => {
  const setup = await withSteadyFunction(t);
  t.notOk(existsSync(absolute), 'the absolute entry is not there to begin with');
  for (const [name, entry] of [['climb', '../../../evil.js'], ['climb-inside', 'lib/../../../evil.js'], ['absolute', absolute]] as const) {
    const upload = zip({ 'index.js': handler, [entry]: handler });
    await assertRefused(t, setup, name, upload, 'application/zip', outside(entry));
  }
  t.notOk(existsSync(absolute), 'the absolute entry was not written');
});

t.test('damaged archives are 400 with a readable reason', async (t) => {
  const setup = await withSteadyFunction(t);
  const whole = tgz(tarFile('index.js', handler), tarFile('lib/more.js', 'x'.repeat(20000)));
  await assertRefused(t, setup, 'cut', whole.subarray(0, whole.length >> 1), 'application/gzip', /^not a readable tar\.gz: unexpected end of file$/);
  // Cut in the middle of a file being written: the write is let go and the deploy still answers.
  const midway = tgz(tarFile('index.js', handler), tarFile('lib/blob.bin', randomBytes(256 * 1024).toString('latin1')));
  await assertRefused(t, setup, 'cutmid', midway.subarray(0, Math.floor(midway.length * 0.6)), 'application/gzip', /^not a readable tar\.gz: unexpected end of file$/);
  await assertRefused(t, setup, 'notar', gzipSync(Buffer.from('just some text, not a tar\n'.repeat(100))), 'application/gzip', /^not a readable tar\.gz: TAR_/);
  const zipped = Buffer.from(zipSync({ 'index.js': strToU8(handler.repeat(200)) }));
  const body = zipped.indexOf('index.js') + 'index.js'.length; // the local header's name, then the data
  zipped.fill(0xff, body + 4, body + 40);
  await assertRefused(t, setup, 'scrambled', zipped, 'application/zip', /^the archive entry "index\.js" is damaged: /);
  await assertRefused(t, setup, 'cutzip', zipped.subarray(0, 60), 'application/zip', /^not a readable zip: /);
});

t.test('unpacking never writes beside the unpack dir, whatever the format', async (t) => {
  const base = tempDir();
  for (const [format, upload] of [
    ['tgz', tgz(tarFile('index.js', handler), tarFile('../evil.js', handler))],
    ['zip', zip({ 'index.js': handler, '../evil.js': handler })],
  ] as const) {
    const parent = join(base, format);
    mkdirSync(parent);
    await t.rejects(unpackArchive(upload, format, join(parent, 'archive'), MAX_UNPACKED), {
      name: 'WispError',
      code: 'INVALID_ARCHIVE',
      message: 'the archive entry "../evil.js" points outside the archive',
    });
    t.notOk(existsSync(join(parent, 'evil.js')), `${format}: no evil.js next to the unpack dir`);
  }
});
