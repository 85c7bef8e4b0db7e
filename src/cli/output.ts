// Where a `wisp` command writes: stdout for what it was asked for, stderr for progress and
// errors; --json prints the raw answer for scripts.
import { readFile } from 'node:fs/promises';
import { CliError, EXIT } from './cli-error.js';

export interface Output {
  out: (text: string) => void;
  err: (text: string) => void;
  json: boolean;
  /** Whether stderr is a terminal (progress lines are redrawn there, not repeated). */
  tty: boolean;
}

/** Prints `value` as JSON with --json, else what `human` makes of it. */
export function print(io: Output, value: unknown, human: () => string): void {
  io.out(io.json ? JSON.stringify(value, null, 2) : human());
}

/** A JSON argument from the command line: inline, `@file`, or `-` for stdin. */
export async function jsonArgument(text: string | undefined, what: string, readStdin: () => Promise<string>): Promise<unknown> {
  if (text === undefined) return undefined;
  let source = text;
  if (text === '-') source = await readStdin();
  else if (text.startsWith('@')) {
    source = await readFile(text.slice(1), 'utf8').catch(() => {
      throw new UsageError('FILE_NOT_FOUND', `${text.slice(1)}: no such file`);
    });
  }
  try {
    return JSON.parse(source);
  } catch (err) {
    throw new UsageError('INVALID_JSON', `${what} is not JSON: ${(err as Error).message}`);
  }
}

export async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}


/** A command line Wisp never saw: exit 2, like commander's own usage errors. */
export class UsageError extends CliError {
  constructor(code: string, message: string) {
    super(code, message, EXIT.usage);
  }
}
