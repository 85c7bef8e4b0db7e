// Keeps a function's secrets out of what Wisp shows about its calls: error messages, stacks and
// captured console lines have every env value replaced, the way CI systems mask their secrets.
// A result is the function's own answer and is passed on untouched.
import type { SerializedError } from '../errors.js';
import type { LogEntry } from '../store/records.js';

const MASK = '[redacted]';
/** Shorter values would mask ordinary words and digits all over a log. */
export const MIN_REDACTED_LENGTH = 4;

export type Redact = (text: string) => string;

/** A function's env values with the redactor for them, made once per change of the values. */
export interface FunctionSecrets {
  readonly values: Readonly<Record<string, string>>;
  readonly redact: Redact;
}

export function secretsOf(values: Record<string, string>): FunctionSecrets {
  return { values: Object.freeze(values), redact: redactorFor(values) };
}

function redactorFor(env: Readonly<Record<string, string>>): Redact {
  // Longest first, so a secret that contains another is masked whole.
  const values = [...new Set(Object.values(env))].filter((value) => value.length >= MIN_REDACTED_LENGTH).sort((a, b) => b.length - a.length);
  return (text) => {
    let out = text;
    for (const value of values) if (out.includes(value)) out = out.split(value).join(MASK);
    return out;
  };
}

export function redactError(error: SerializedError, redact: Redact): SerializedError {
  return { ...error, message: redact(error.message), ...(error.stack === undefined ? {} : { stack: redact(error.stack) }) };
}

export function redactLogs(logs: LogEntry[], redact: Redact): LogEntry[] {
  return logs.map((entry) => ({ ...entry, message: redact(entry.message) }));
}
