import type { Config } from '../config.js';
import { WispError } from '../errors.js';
import type { ConcurrencyControl, FunctionConfig } from '../store/records.js';

type Limits = Config['functions'];

interface Rule {
  min: number;
  max: (limits: Limits) => number;
  fallback: (limits: Limits) => number;
}

type NumericKey = Exclude<keyof FunctionConfig, 'public' | 'concurrencyControl'>;

const RULES: Record<NumericKey, Rule> = {
  timeoutMs: { min: 1, max: (l) => l.maxTimeoutMs, fallback: (l) => l.defaultTimeoutMs },
  memoryMb: { min: 16, max: (l) => l.maxMemoryMb, fallback: (l) => l.defaultMemoryMb },
  concurrency: { min: 1, max: () => 100_000, fallback: (l) => l.defaultConcurrency },
  retries: { min: 0, max: () => 100, fallback: () => 2 },
  retryBackoffMs: { min: 0, max: () => 3_600_000, fallback: () => 1000 },
  // Six hours, as AWS Lambda's maximum event age; at most a week.
  maxAgeMs: { min: 1000, max: () => 604_800_000, fallback: () => 21_600_000 },
  // 0: its instances never hibernate unless their create asks; at most a week.
  idleSuspendMs: { min: 0, max: () => 604_800_000, fallback: () => 0 },
};

const NUMERIC_KEYS = Object.keys(RULES) as NumericKey[];
const KEYS: (keyof FunctionConfig)[] = [...NUMERIC_KEYS, 'public', 'concurrencyControl'];

const CONTROL_KEYS = ['arguments', 'function'];
const CONTROL_MODES = ['reuse', 'reject', 'off'];

function concurrencyControlOf(value: unknown): ConcurrencyControl {
  if (value === undefined) return { key: 'arguments', mode: 'off' };
  const shape = 'config.concurrencyControl must be {key: "arguments" | "function", mode: "reuse" | "reject" | "off"}';
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new WispError('INVALID_CONFIG', `${shape}, got ${JSON.stringify(value)}`);
  const { key = 'arguments', mode, ...rest } = value as Record<string, unknown>;
  const unknown = Object.keys(rest);
  if (unknown.length > 0) throw new WispError('INVALID_CONFIG', `${shape}; it has an unknown key "${unknown[0]}"`);
  if (typeof key !== 'string' || !CONTROL_KEYS.includes(key)) throw new WispError('INVALID_CONFIG', `${shape}; key is ${JSON.stringify(key)}`);
  if (typeof mode !== 'string' || !CONTROL_MODES.includes(mode)) throw new WispError('INVALID_CONFIG', `${shape}; mode is ${JSON.stringify(mode)}`);
  return { key, mode } as ConcurrencyControl;
}

/**
 * The function's effective config: the module's `export const config`, overridden key by key by
 * the config sent with the deploy, defaults for the rest. `source` names where a bad value came
 * from, so the message says what to fix.
 */
export function resolveFunctionConfig(
  fromModule: unknown,
  fromDeploy: unknown,
  limits: Limits,
): FunctionConfig {
  const merged: Record<string, unknown> = {};
  for (const [source, value] of [['export const config', fromModule], ['the deploy config', fromDeploy]] as const) {
    if (value === null || value === undefined) continue;
    if (typeof value !== 'object' || Array.isArray(value)) {
      throw new WispError('INVALID_CONFIG', `${source} must be an object, got ${Array.isArray(value) ? 'an array' : typeof value}`);
    }
    for (const [key, item] of Object.entries(value)) {
      if (!(KEYS as string[]).includes(key)) {
        throw new WispError('INVALID_CONFIG', `${source} has an unknown key "${key}"; known keys: ${KEYS.join(', ')}`);
      }
      merged[key] = item;
    }
  }
  const config = {} as FunctionConfig;
  const isPublic = merged.public ?? false;
  if (typeof isPublic !== 'boolean') throw new WispError('INVALID_CONFIG', `config.public must be true or false, got ${JSON.stringify(isPublic)}`);
  config.public = isPublic;
  config.concurrencyControl = concurrencyControlOf(merged.concurrencyControl);
  for (const key of NUMERIC_KEYS) {
    const rule = RULES[key];
    const value = merged[key] ?? rule.fallback(limits);
    const max = rule.max(limits);
    if (typeof value !== 'number' || !Number.isInteger(value) || value < rule.min || value > max) {
      throw new WispError('INVALID_CONFIG', `config.${key} must be a whole number from ${rule.min} to ${max}, got ${JSON.stringify(value)}`);
    }
    config[key] = value;
  }
  return config;
}
