import { LIMITS, SYSTEM_KEY_PREFIX } from './limits.js';
import { kvError } from './kv-errors.js';

/**
 * Argument checks shared by every engine, so both refuse the same input with the same code before
 * anything is buffered or sent.
 */

function assertBytes(what: string, v: unknown): asserts v is Uint8Array {
  if (!(v instanceof Uint8Array)) throw new TypeError(`${what} must be a Uint8Array`);
}

/** True when `key` is at or beyond `\xff` (FoundationDB's system keyspace). */
function isSystemKey(key: Uint8Array): boolean {
  return key.length > 0 && key[0] === SYSTEM_KEY_PREFIX;
}

/**
 * A key for a point operation: within the size limit and below `\xff`. `limit` is lower than the
 * contract's for a view that prefixes keys (a tenant), so errors state the caller's own limit.
 */
export function checkKey(key: Uint8Array, limit: number = LIMITS.keySize): void {
  assertBytes('key', key);
  if (key.length > limit) {
    throw kvError('ERR_KV_KEY_TOO_LARGE', `key is ${key.length} bytes; the limit is ${limit}`, { size: key.length, limit });
  }
  if (isSystemKey(key)) throw kvError('ERR_KV_KEY_OUTSIDE_LEGAL_RANGE', 'keys at or beyond \\xff are reserved');
}

/**
 * A range bound: may be `\xff` itself (the end of the legal keyspace) but nothing beyond, and may be
 * one byte longer than the longest key, so that the range just past a longest key can be named.
 */
export function checkRangeBound(key: Uint8Array, keyLimit: number = LIMITS.keySize): void {
  assertBytes('range bound', key);
  if (key.length > keyLimit + 1) {
    throw kvError('ERR_KV_KEY_TOO_LARGE', `range bound is ${key.length} bytes; the limit is ${keyLimit + 1}`, {
      size: key.length,
      limit: keyLimit + 1,
    });
  }
  if (isSystemKey(key) && key.length > 1) {
    throw kvError('ERR_KV_KEY_OUTSIDE_LEGAL_RANGE', 'range bounds beyond \\xff are reserved');
  }
}

/** A value: within the size limit. */
export function checkValue(value: Uint8Array): void {
  assertBytes('value', value);
  if (value.length > LIMITS.valueSize) {
    throw kvError('ERR_KV_VALUE_TOO_LARGE', `value is ${value.length} bytes; the limit is ${LIMITS.valueSize}`, {
      size: value.length,
      limit: LIMITS.valueSize,
    });
  }
}

/** A range limit: a positive integer, or absent. */
export function checkLimit(limit: number | undefined): void {
  if (limit !== undefined && (!Number.isSafeInteger(limit) || limit < 1)) {
    throw new RangeError(`limit must be a positive integer, got ${String(limit)}`);
  }
}

/** Bytewise comparison of two keys, as FoundationDB orders them. */
export function compareKeys(a: Uint8Array, b: Uint8Array): number {
  return Buffer.compare(a, b);
}
