import { WispError } from '../errors.js';

export const FUNCTION_NAME = /^[a-z][a-z0-9-]{0,62}$/;

export function assertFunctionName(name: string): void {
  if (!FUNCTION_NAME.test(name)) {
    throw new WispError(
      'INVALID_NAME',
      `"${name.slice(0, 80)}" is not a valid function name: use 1 to 63 characters, lowercase letters, digits and "-", starting with a letter`,
    );
  }
}
