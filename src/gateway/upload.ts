// Reads a deploy request into an Upload: raw source text, an archive, or multipart with a
// `code` file part and an optional `config` JSON part.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import multipart from '@fastify/multipart';
import { WispError } from '../errors.js';
import { sniffArchive } from '../registry/archive.js';
import type { SourceLanguage } from '../registry/bundle.js';
import type { Upload } from '../registry/registry.js';
import { JSON_TYPE, parseJson } from './json-body.js';

/** Content types taken as a module body. curl --data-binary sends form-urlencoded by default. */
const RAW_TYPES = [
  'application/javascript',
  'application/x-javascript',
  'application/ecmascript',
  'application/typescript',
  'application/x-typescript',
  'application/x-www-form-urlencoded',
  'application/octet-stream',
  'application/zip',
  'application/x-zip-compressed',
  'application/gzip',
  'application/x-gzip',
  'application/x-tar+gzip',
  'application/x-compressed-tar',
];
const TEXT_TYPE = /^text\/[\w.+-]+$/i;

export const DEPLOY_TYPES_HINT =
  'send the module as text (curl --data-binary @fn.ts), a zip or tar.gz archive, or multipart/form-data with a "code" file part';

export interface DeployBody {
  upload: Upload;
  config: unknown;
}

/** Registers the body parsers for deploys in `app`'s scope. */
export async function registerUploadParsers(app: FastifyInstance, uploadBytes: number): Promise<void> {
  for (const type of [RAW_TYPES, TEXT_TYPE]) {
    app.addContentTypeParser(type, { parseAs: 'buffer', bodyLimit: uploadBytes }, (_request, body, done) => done(null, body));
  }
  await app.register(multipart, { limits: { fileSize: uploadBytes, files: 1, fields: 2, parts: 3, fieldSize: 1024 * 1024 } });
}

function languageOf(contentType: string, filename: string | undefined): SourceLanguage {
  if (filename) return /\.[cm]?js$/i.test(filename) ? 'js' : 'ts';
  return /javascript|ecmascript/i.test(contentType) ? 'js' : 'ts';
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

function toUpload(name: string, bytes: Buffer, contentType: string, filename?: string): Upload {
  if (bytes.byteLength === 0) throw new WispError('EMPTY_UPLOAD', `the upload is empty: ${DEPLOY_TYPES_HINT}`);
  const format = sniffArchive(bytes);
  if (format) return { kind: 'archive', bytes, format };
  let source: string;
  try {
    source = utf8.decode(bytes);
  } catch {
    throw new WispError('INVALID_FUNCTION', 'the upload is neither UTF-8 source text nor a zip or tar.gz archive');
  }
  const language = languageOf(contentType, filename);
  return { kind: 'source', source, language, filename: filename ?? `${name}.${language}` };
}

/**
 * Busboy's parse failures (no boundary, data ending mid-part) are plain Errors with no code: they
 * are the client's malformed body, not Wisp failing. Size limits and our own errors pass through.
 */
function malformedMultipart(err: unknown): unknown {
  if (err instanceof WispError || typeof (err as { code?: unknown }).code === 'string') return err;
  return new WispError('INVALID_REQUEST', `the multipart body cannot be read: ${(err as Error).message}`);
}

async function readMultipart(name: string, request: FastifyRequest): Promise<DeployBody> {
  try {
    return await readParts(name, request);
  } catch (err) {
    throw malformedMultipart(err);
  }
}

async function readParts(name: string, request: FastifyRequest): Promise<DeployBody> {
  let upload: Upload | undefined;
  let config: unknown = null;
  for await (const part of request.parts()) {
    if (part.type === 'file' && part.fieldname === 'code') {
      upload = toUpload(name, await part.toBuffer(), part.mimetype, part.filename || undefined);
    } else if (part.type === 'field' && part.fieldname === 'config') {
      try {
        config = parseJson(String(part.value));
      } catch (err) {
        throw new WispError('INVALID_CONFIG', `the config part is not valid JSON: ${(err as Error).message}`);
      }
    } else {
      throw new WispError('INVALID_REQUEST', `unexpected multipart part "${part.fieldname}": send a "code" file part and optionally a "config" field`);
    }
  }
  if (!upload) throw new WispError('EMPTY_UPLOAD', 'the multipart upload has no "code" file part');
  return { upload, config };
}

export async function readDeployBody(name: string, request: FastifyRequest): Promise<DeployBody> {
  const contentType = (request.headers['content-type'] ?? '').split(';')[0]!.trim();
  if (request.isMultipart()) return readMultipart(name, request);
  if (JSON_TYPE.test(contentType)) {
    throw new WispError('UNSUPPORTED_MEDIA_TYPE', `a function is not deployed as JSON: ${DEPLOY_TYPES_HINT}`);
  }
  const body = request.body;
  if (body === undefined || body === null) throw new WispError('EMPTY_UPLOAD', `the upload is empty: ${DEPLOY_TYPES_HINT}`);
  return { upload: toUpload(name, body as Buffer, contentType), config: null };
}
