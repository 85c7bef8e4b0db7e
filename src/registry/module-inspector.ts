// Deploy-time load check: runs the new bundle's top level in a pool worker under a deadline and
// turns every way that can fail into 400 INVALID_FUNCTION with what and where.
import { WispError, type SerializedError } from '../errors.js';
import type { StatelessPool } from '../runtime/stateless-pool.js';
import { TaskFailure } from '../runtime/task-failure.js';
import type { ModuleInspector } from './registry.js';

/** The first stack frame in user code, e.g. "hello.ts:3:9" (source-mapped by the worker). */
const FRAME = /\(?((?:[^\s()]*\/)?([^\s/()]+\.(?:[cm]?[jt]s)):(\d+):(\d+))\)?$/;

function locate(error: SerializedError): { file: string; line: number; column: number } | undefined {
  for (const line of (error.stack ?? '').split('\n').slice(1)) {
    if (line.includes('node:') || line.includes('/node_modules/')) continue;
    const match = FRAME.exec(line.trim());
    if (match) return { file: match[2]!, line: Number(match[3]), column: Number(match[4]) };
  }
  return undefined;
}

export function loadFailure(error: SerializedError): WispError {
  const where = locate(error);
  const at = where ? ` at ${where.file}:${where.line}:${where.column}` : '';
  return new WispError('INVALID_FUNCTION', `the module threw while loading${at}: ${error.name}: ${error.message}`, where ?? {});
}

export function createModuleInspector(pool: StatelessPool, memoryMb: number, timeoutMs: number): ModuleInspector {
  return async (code) => {
    let outcome;
    try {
      outcome = await pool.run({ kind: 'load', code }, { memoryMb, timeoutMs });
    } catch (err) {
      if (!(err instanceof TaskFailure)) throw err;
      if (err.reason === 'timeout') {
        throw new WispError('INVALID_FUNCTION', `the module did not finish loading within ${timeoutMs} ms (an endless loop at top level?)`);
      }
      if (err.reason === 'crashed') throw new WispError('INVALID_FUNCTION', `the module crashed its worker while loading: ${err.message}`);
      throw new WispError('SERVER_BUSY', `cannot check the module now: ${err.message}`);
    }
    if (!outcome.ok) throw loadFailure(outcome.error);
    return outcome.value;
  };
}
