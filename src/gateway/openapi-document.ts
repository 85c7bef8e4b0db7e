// openapi.yaml, read once: the docs serve it and the routes take their request schemas from it
// (request-schemas.ts). Parsing the YAML costs ~70 ms, so it is done once per process.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';

export const OPENAPI_FILE = fileURLToPath(new URL('../../openapi.yaml', import.meta.url));

let document: Record<string, unknown> | undefined;

/** The parsed document. Callers must not change it: it is shared. */
export function openApiDocument(): Record<string, unknown> {
  document ??= parse(readFileSync(OPENAPI_FILE, 'utf8')) as Record<string, unknown>;
  return document;
}
