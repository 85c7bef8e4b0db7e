// What a `wisp` command fails with: a stable code (as in Wisp's problem documents), one line that
// says what to do, and the process's exit code (listed in `wisp --help`).

/** Exit codes of the `wisp` command. */
export const EXIT = {
  ok: 0,
  /** The operation failed (a problem document, a node that failed). */
  failed: 1,
  /** The command line is wrong (commander's own code for usage errors). */
  usage: 2,
  /** A cluster could not be started (ports, a node that never became ready). */
  notStarted: 3,
  /** The Wisp at WISP_URL could not be reached (the error line names the URL and the cause). */
  unreachable: 4,
} as const;

export class CliError extends Error {
  override name = 'CliError';
  readonly code: string;
  readonly exitCode: number;

  constructor(code: string, message: string, exitCode: number = EXIT.failed) {
    super(message);
    this.code = code;
    this.exitCode = exitCode;
  }
}
