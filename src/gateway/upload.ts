// Reads a deploy request into an Upload: raw source text, an archive, or multipart with a
// `code` file part and an optional `config` JSON part.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import multipart, { type MultipartFile } from '@fastify/multipart';
import { WispError } from '../errors.js';
import { sniffArchive } from '../registry/archive.js';
import type { SourceLanguage } from '../registry/bundle.js';
import type { Upload } from '../registry/registry.js';
import { JSON_TYPE, mediaTypeOf, parseJson } from './json-body.js';

/** Content types taken as module source. curl --data-binary sends form-urlencoded by default. */
const SOURCE_TYPES = new Set([
  'application/javascript',
  'application/x-javascript',
  'application/ecmascript',
  'application/typescript',
  'application/x-typescript',
  'application/x-www-form-urlencoded',
  'application/octet-stream',
]);
/** Content types that promise an archive: the body must then be one. */
const ARCHIVE_TYPES = new Set(['application/zip', 'application/x-zip-compressed', 'application/gzip', 'application/x-gzip', 'application/x-tar+gzip', 'application/x-compressed-tar']);
const TEXT_TYPE = /^text\/[\w.+-]+$/i;

export const DEPLOY_TYPES_HINT =
  'send the module as application/typescript or application/javascript (curl --data-binary @fn.ts -H "content-type: application/typescript"), a zip or tar.gz archive (application/zip, application/gzip), or multipart/form-data with a "code" file part';

/** The largest `config` part taken, as a field or a file: config is a few keys, not a payload. */
const CONFIG_PART_BYTES = 1024 * 1024;

export interface DeployBody {
  upload: Upload;
  config: unknown;
}

/**
 * Registers the body parsers for deploys in `app`'s scope: every type is read as bytes, so that
 * readDeployBody can say what to send instead (a module sent as JSON is not "invalid JSON").
 */
export async function registerUploadParsers(app: FastifyInstance, uploadBytes: number): Promise<void> {
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: uploadBytes }, (_request, body, done) => done(null, body));
  // A code file part and a config part, which may come as a field or as a file (curl -F config=@x.json).
  await app.register(multipart, { limits: { fileSize: uploadBytes, files: 2, fields: 2, parts: 3, fieldSize: CONFIG_PART_BYTES } });
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
  if (source.trim() === '') throw new WispError('EMPTY_UPLOAD', `the upload holds only whitespace: ${DEPLOY_TYPES_HINT}`);
  const language = languageOf(contentType, filename);
  return { kind: 'source', source, language, filename: filename ?? `${name}.${language}` };
}

/**
 * Busboy's parse failures (no boundary, data ending mid-part) are plain Errors with no code: they
 * are the client's malformed body, not Wisp failing. Size limits and our own errors pass through.
 */
function malformedMultipart(err: unknown): unknown {
  if ((err as { code?: unknown }).code === 'FST_INVALID_JSON_FIELD_ERROR') {
    return new WispError('INVALID_CONFIG', 'the config part is sent as application/json but is not valid JSON', {}, { cause: err });
  }
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

function parseConfigPart(text: string): unknown {
  try {
    return parseJson(text);
  } catch (err) {
    throw new WispError('INVALID_CONFIG', `the config part is not valid JSON: ${(err as Error).message}`);
  }
}

/** A config sent as a file part is read up to CONFIG_PART_BYTES: past that it is not a config. */
async function readConfigFile(part: MultipartFile): Promise<string> {
  const chunks: Buffer[] = [];
  let bytes = 0;
  for await (const chunk of part.file as AsyncIterable<Buffer>) {
    bytes += chunk.byteLength;
    if (bytes > CONFIG_PART_BYTES) throw new WispError('INVALID_CONFIG', `the config part is larger than ${CONFIG_PART_BYTES} bytes; it holds a few settings`);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

async function readParts(name: string, request: FastifyRequest): Promise<DeployBody> {
  let upload: Upload | undefined;
  let config: unknown = null;
  for await (const part of request.parts()) {
    if (part.type === 'file' && part.fieldname === 'code') {
      upload = toUpload(name, await part.toBuffer(), part.mimetype, part.filename || undefined);
    } else if (part.fieldname === 'config') {
      // As a text field, a field with Content-Type application/json, or a file part.
      if (part.type === 'file') config = parseConfigPart(await readConfigFile(part));
      // A field sent as application/json arrives parsed (by secure-json-parse, as ours is).
      else config = typeof part.value === 'string' ? parseConfigPart(part.value) : part.value;
    } else {
      throw new WispError('INVALID_REQUEST', `unexpected multipart part "${part.fieldname}": send a "code" file part and optionally a "config" field`);
    }
  }
  if (!upload) throw new WispError('EMPTY_UPLOAD', 'the multipart upload has no "code" file part');
  return { upload, config };
}

/** Whether the body is what its Content-Type says; if not, which type to send instead. */
function checkDeclaredType(contentType: string, bytes: Buffer): void {
  const archive = sniffArchive(bytes);
  if (JSON_TYPE.test(contentType)) {
    const instead = archive ? 'application/zip or application/gzip for an archive' : 'application/typescript (or application/javascript) for a module';
    throw new WispError('UNSUPPORTED_MEDIA_TYPE', `a function is deployed as code, not JSON: send Content-Type ${instead}. ${DEPLOY_TYPES_HINT}`);
  }
  if (ARCHIVE_TYPES.has(contentType) && !archive) {
    throw new WispError(
      'INVALID_ARCHIVE',
      `the body is sent as ${contentType} but is not a zip or tar.gz archive; for a single module send Content-Type application/typescript or application/javascript`,
    );
  }
  if (contentType !== '' && !ARCHIVE_TYPES.has(contentType) && !SOURCE_TYPES.has(contentType) && !TEXT_TYPE.test(contentType)) {
    throw new WispError('UNSUPPORTED_MEDIA_TYPE', `a deploy does not take Content-Type ${contentType}: ${DEPLOY_TYPES_HINT}`);
  }
}

export async function readDeployBody(name: string, request: FastifyRequest): Promise<DeployBody> {
  if (request.isMultipart()) return readMultipart(name, request);
  const contentType = mediaTypeOf(request);
  const body = request.body instanceof Buffer ? request.body : Buffer.alloc(0);
  // Empty is empty, whatever type it was declared as.
  if (body.byteLength === 0) throw new WispError('EMPTY_UPLOAD', `the upload is empty: ${DEPLOY_TYPES_HINT}`);
  checkDeclaredType(contentType, body);
  return { upload: toUpload(name, body, contentType), config: null };
}
