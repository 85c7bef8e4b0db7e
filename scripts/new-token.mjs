#!/usr/bin/env node
// npm run token -- SCOPE [NAME]: makes a random bearer token and prints it once, with the
// config-file entry that holds only its sha256 (auth.tokens) and the WISP_TOKENS form.
import { hashToken, newToken, SCOPES } from '../dist/auth/tokens.js';

const [scope, name = `${scope}-${new Date().toISOString().slice(0, 10)}`] = process.argv.slice(2);
if (!SCOPES.includes(scope)) {
  console.error(`usage: npm run token -- SCOPE [NAME]   (SCOPE is one of ${SCOPES.join(', ')})`);
  process.exit(2);
}
const token = newToken();
console.log(`token (shown once; give it to the client):\n  ${token}\n`);
console.log(`for the config file (auth.tokens holds only the hash):\n  ${JSON.stringify({ name, scope, sha256: hashToken(token) })}\n`);
console.log(`or in the environment:\n  WISP_TOKENS=${token}:${scope}`);
