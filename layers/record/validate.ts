import { StrataError, type ErrorCode } from '../../src/errors.js';

/**
 * Small checks for parsing request shapes into typed values, each failing with the caller's error
 * code and a message that names where in the body the fault is (`vectors.size: …`).
 */

/** A plain JSON object (not an array, not null). */
export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Throws `code` with `where: message`. */
export function fail(code: ErrorCode, where: string, message: string): never {
  throw new StrataError(code, where === '' ? message : `${where}: ${message}`);
}

/** `value` as an object whose keys are all in `allowed`. */
export function objectOf(code: ErrorCode, where: string, value: unknown, allowed: readonly string[]): Record<string, unknown> {
  if (!isPlainObject(value)) fail(code, where, 'must be an object');
  for (const key of Object.keys(value)) {
    if (!allowed.includes(key)) fail(code, where, `unknown field ${JSON.stringify(key)}`);
  }
  return value;
}

/** A whole number in [min, max], or `fallback` when absent (undefined or null). */
export function optionalInt(code: ErrorCode, where: string, value: unknown, min: number, max: number, fallback: number): number;
export function optionalInt(code: ErrorCode, where: string, value: unknown, min: number, max: number): number | undefined;
export function optionalInt(code: ErrorCode, where: string, value: unknown, min: number, max: number, fallback?: number): number | undefined {
  if (value === undefined || value === null) return fallback;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min || value > max) {
    fail(code, where, `must be a whole number from ${min} to ${max}`);
  }
  return value;
}

/** A boolean, or `fallback` when absent. */
export function optionalBool(code: ErrorCode, where: string, value: unknown, fallback: boolean): boolean {
  if (value === undefined || value === null) return fallback;
  if (typeof value !== 'boolean') fail(code, where, 'must be true or false');
  return value;
}

/** A finite number, or undefined when absent. */
export function optionalNumber(code: ErrorCode, where: string, value: unknown): number | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'number' || !Number.isFinite(value)) fail(code, where, 'must be a finite number');
  return value;
}
