import { StrataError, type ErrorCode } from '../errors.js';

/**
 * Contract errors, each carrying FoundationDB's error number in `details.fdbCode` so users of both
 * engines can look them up in FoundationDB's documentation.
 */
export const FDB_CODES = {
  ERR_KV_TRANSACTION_TOO_OLD: 1007,
  ERR_KV_NOT_COMMITTED: 1020,
  ERR_KV_COMMIT_UNKNOWN: 1021,
  ERR_KV_TRANSACTION_CLOSED: 1025,
  ERR_KV_TRANSACTION_TIMED_OUT: 1031,
  ERR_KV_KEY_OUTSIDE_LEGAL_RANGE: 2004,
  ERR_KV_INVERTED_RANGE: 2005,
  ERR_KV_TRANSACTION_TOO_LARGE: 2101,
  ERR_KV_KEY_TOO_LARGE: 2102,
  ERR_KV_VALUE_TOO_LARGE: 2103,
} as const satisfies Partial<Record<ErrorCode, number>>;

type KvCode = keyof typeof FDB_CODES;

/** Codes the retry loop retries, as FoundationDB's `on_error` does. */
export const RETRYABLE_CODES: ReadonlySet<ErrorCode> = new Set<ErrorCode>([
  'ERR_KV_NOT_COMMITTED',
  'ERR_KV_TRANSACTION_TOO_OLD',
  'ERR_KV_COMMIT_UNKNOWN',
  'ERR_KV_CLUSTER_BUSY',
]);

/** A contract error with FoundationDB's number and any extra details. */
export function kvError(code: KvCode, message: string, details: Record<string, unknown> = {}): StrataError {
  return new StrataError(code, message, {
    details: { fdbCode: FDB_CODES[code], retryable: RETRYABLE_CODES.has(code), ...details },
  });
}
