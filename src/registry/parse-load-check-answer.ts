// The gateway's side of the load check's answer pipe (see load-check-protocol.ts): one line
// parsed into a LoadCheckAnswer. The child runs user code, so its answers are checked, not
// trusted: anything not of the protocol's shape is no answer at all.
import type { LoadCheckAnswer } from './load-check-protocol.js';

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

/** Reads one answer line; undefined when it is not a well-formed answer. */
export function parseLoadCheckAnswer(line: string): LoadCheckAnswer | undefined {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return undefined;
  }
  if (!isObject(value)) return undefined;
  switch (value.kind) {
    case 'ready':
      return { kind: 'ready' };
    case 'loaded': {
      const report = value.report;
      if (!isObject(report) || !isObject(report.exports)) return undefined;
      const { handler, fetch, classes } = report.exports;
      if (typeof handler !== 'boolean' || typeof fetch !== 'boolean') return undefined;
      if (!Array.isArray(classes) || !classes.every((name) => typeof name === 'string')) return undefined;
      return { kind: 'loaded', report: { exports: { handler, fetch, classes: classes as string[] }, config: report.config ?? null } };
    }
    case 'threw': {
      const error = value.error;
      if (!isObject(error) || typeof error.name !== 'string' || typeof error.message !== 'string') return undefined;
      return {
        kind: 'threw',
        error: { name: error.name, message: error.message, ...(typeof error.stack === 'string' ? { stack: error.stack } : {}) },
      };
    }
    case 'memory': {
      const { measure, usedMb, limitMb } = value;
      if ((measure !== 'rss' && measure !== 'external') || typeof usedMb !== 'number' || typeof limitMb !== 'number') return undefined;
      return { kind: 'memory', measure, usedMb, limitMb };
    }
    case 'unreadable':
      return typeof value.message === 'string' ? { kind: 'unreadable', message: value.message } : undefined;
    default:
      return undefined;
  }
}
