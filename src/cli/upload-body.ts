// What `wisp deploy` sends: a module file as it is, a directory as a tar.gz of everything in it
// (node_modules included: the bundler resolves imports from it), and, with --config, both as
// multipart/form-data with a "config" part. A body past a megabyte is streamed with progress.
import { readFile, stat } from 'node:fs/promises';
import { basename, extname } from 'node:path';
import { randomBytes } from 'node:crypto';
import { create as createTar } from 'tar';
import { CliError, EXIT } from './cli-error.js';

export interface DeployBody {
  bytes: Buffer;
  contentType: string;
  /** The function's name when none is given: the file's name without its extension, or the directory's. */
  defaultName: string;
}

const TYPES: Record<string, string> = {
  '.ts': 'application/typescript',
  '.mts': 'application/typescript',
  '.cts': 'application/typescript',
  '.js': 'application/javascript',
  '.mjs': 'application/javascript',
  '.cjs': 'application/javascript',
  '.zip': 'application/zip',
  '.tgz': 'application/gzip',
  '.gz': 'application/gzip',
};

export async function deployBody(path: string, config: unknown): Promise<DeployBody> {
  const info = await stat(path).catch(() => {
    throw new CliError('FILE_NOT_FOUND', `${path}: no such file or directory`, EXIT.usage);
  });
  const code = info.isDirectory() ? await archive(path) : await moduleFile(path);
  if (config === undefined) return code;
  const boundary = `wisp-${randomBytes(12).toString('hex')}`;
  const part = (headers: string, content: Buffer) => Buffer.concat([Buffer.from(`--${boundary}\r\n${headers}\r\n\r\n`), content, Buffer.from('\r\n')]);
  const bytes = Buffer.concat([
    part('Content-Disposition: form-data; name="config"\r\nContent-Type: application/json', Buffer.from(JSON.stringify(config))),
    part(`Content-Disposition: form-data; name="code"; filename="${basename(path).replace(/"/g, '')}${info.isDirectory() ? '.tar.gz' : ''}"\r\nContent-Type: ${code.contentType}`, code.bytes),
    Buffer.from(`--${boundary}--\r\n`),
  ]);
  return { bytes, contentType: `multipart/form-data; boundary=${boundary}`, defaultName: code.defaultName };
}

/** A function's name when none is given: a file's name without its extension, or a directory's name. */
export function defaultName(path: string, isDirectory: boolean): string {
  const name = basename(path.replace(/\/+$/, ''));
  return isDirectory ? name : name.replace(/\.tar\.gz$/, '').replace(/\.[^.]+$/, '');
}

async function moduleFile(path: string): Promise<DeployBody> {
  const name = basename(path);
  const extension = name.endsWith('.tar.gz') ? '.gz' : extname(name);
  return {
    bytes: await readFile(path),
    contentType: TYPES[extension.toLowerCase()] ?? 'application/typescript',
    defaultName: defaultName(path, false),
  };
}

async function archive(dir: string): Promise<DeployBody> {
  const chunks: Buffer[] = [];
  const stream = createTar({ gzip: true, cwd: dir, portable: true, filter: (path) => !/(^|\/)\.git(\/|$)/.test(path) }, ['.']);
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return { bytes: Buffer.concat(chunks), contentType: 'application/gzip', defaultName: defaultName(dir, true) };
}

/** A body as a stream that reports how much of it has been sent. */
export function withProgress(bytes: Buffer, report: (sent: number, total: number) => void): ReadableStream<Uint8Array> {
  const CHUNK = 256 * 1024;
  let offset = 0;
  return new ReadableStream({
    pull(controller) {
      if (offset >= bytes.byteLength) return controller.close();
      const end = Math.min(offset + CHUNK, bytes.byteLength);
      controller.enqueue(bytes.subarray(offset, end));
      offset = end;
      report(offset, bytes.byteLength);
    },
  });
}
