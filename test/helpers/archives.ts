// Builds zip and tar.gz uploads in memory: a module that imports a package from its own
// node_modules, the way a user's project directory looks.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { strToU8, zipSync } from 'fflate';
import { create } from 'tar';

export type FileTree = Record<string, string>;

export const projectWithDependency: FileTree = {
  'index.ts': `import shout from 'shout';\nexport default (input: { text: string }) => ({ out: shout(input.text) });\n`,
  'node_modules/shout/package.json': JSON.stringify({ name: 'shout', version: '1.0.0', main: 'lib/shout.js' }),
  'node_modules/shout/lib/shout.js': `module.exports = (s) => String(s).toUpperCase() + '!';\n`,
};

export function zip(files: FileTree): Buffer {
  return Buffer.from(zipSync(Object.fromEntries(Object.entries(files).map(([name, text]) => [name, strToU8(text)]))));
}

export async function tarGz(files: FileTree): Promise<Buffer> {
  const dir = mkdtempSync(join(tmpdir(), 'wisp-tgz-'));
  try {
    for (const [name, text] of Object.entries(files)) {
      mkdirSync(dirname(join(dir, name)), { recursive: true });
      writeFileSync(join(dir, name), text);
    }
    const chunks: Buffer[] = [];
    const stream = create({ gzip: true, cwd: dir, portable: true }, Object.keys(files));
    for await (const chunk of stream) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** How a `config` part is sent: a plain field (curl -F config=...), with a JSON type, or as a file (curl -F config=@x.json). */
export type ConfigPart = 'field' | 'json-field' | 'file';

const CONFIG_PART_HEADERS: Record<ConfigPart, string> = {
  field: 'Content-Disposition: form-data; name="config"',
  'json-field': 'Content-Disposition: form-data; name="config"\r\nContent-Type: application/json',
  file: 'Content-Disposition: form-data; name="config"; filename="config.json"\r\nContent-Type: application/json',
};

/** A multipart/form-data body with a `code` file part and an optional `config` part. */
export function multipartBody(code: Buffer | string, filename: string, config?: string, configPart: ConfigPart = 'field'): { payload: Buffer; contentType: string } {
  const boundary = '----wisp-test-boundary';
  const parts: Buffer[] = [];
  if (config !== undefined) {
    parts.push(Buffer.from(`--${boundary}\r\n${CONFIG_PART_HEADERS[configPart]}\r\n\r\n${config}\r\n`));
  }
  parts.push(
    Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="code"; filename="${filename}"\r\nContent-Type: application/octet-stream\r\n\r\n`),
    Buffer.from(code),
    Buffer.from(`\r\n--${boundary}--\r\n`),
  );
  return { payload: Buffer.concat(parts), contentType: `multipart/form-data; boundary=${boundary}` };
}
