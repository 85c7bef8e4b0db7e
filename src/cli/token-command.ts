// `wisp token SCOPE [NAME]`: a new bearer token, shown once, with the config entry that holds
// only its hash (no Wisp is asked: tokens are configured, not issued by a server).
import type { Command } from 'commander';
import { hashToken, newToken, SCOPES, type Scope } from '../auth/tokens.js';
import { print, UsageError, type Output } from './output.js';

export function tokenCommand(program: Command, io: () => Output): void {
  program
    .command('token')
    .description(`make a bearer token for a scope (${SCOPES.join(', ')}) and print it with its config entry`)
    .argument('<scope>')
    .argument('[name]', 'a name for it in the config (default: SCOPE-DATE)')
    .action((scope: string, name: string | undefined) => {
      if (!SCOPES.includes(scope as Scope)) throw new UsageError('INVALID_ARGUMENT', `the scope must be one of ${SCOPES.join(', ')}, not "${scope}"`);
      const token = newToken();
      const entry = { name: name ?? `${scope}-${new Date().toISOString().slice(0, 10)}`, scope, sha256: hashToken(token) };
      print(io(), { token, entry, env: `WISP_TOKENS=${token}:${scope}` }, () =>
        [`token (shown once; give it to the client):`, `  ${token}`, ``, `for the config file (auth.tokens holds only the hash):`, `  ${JSON.stringify(entry)}`, ``, `or in the environment:`, `  WISP_TOKENS=${token}:${scope}`].join('\n'),
      );
    });
}
