import { StrataError } from '../../errors.js';
import { FDB_CODES, kvError } from '../kv-errors.js';

/**
 * FoundationDB errors in the contract's terms.
 *
 * node-foundationdb rejects (or throws) with an `FDBError`: an `Error` whose `code` is FDB's error
 * number (lib/error.ts). The contract already names the FDB numbers it covers (`FDB_CODES` in
 * kv-errors.ts), so the mapping is read from there: one table, shared with the embedded engine.
 */

/** A contract code that has an FDB error number. */
export type FdbContractCode = keyof typeof FDB_CODES;

const CONTRACT_CODE_BY_FDB_CODE: ReadonlyMap<number, FdbContractCode> = new Map(
  (Object.keys(FDB_CODES) as FdbContractCode[]).map(code => [FDB_CODES[code], code] as const),
);

/**
 * The contract code for an FDB error number, or `undefined` when the contract has none for it.
 *
 * Pure, so the table can be tested without the `foundationdb` package.
 *
 * @example
 * contractCodeForFdb(1020) // 'ERR_KV_NOT_COMMITTED'
 * contractCodeForFdb(1009) // undefined (future_version: reported as ERR_KV_CLUSTER_BUSY)
 */
export function contractCodeForFdb(fdbCode: number): FdbContractCode | undefined {
  return CONTRACT_CODE_BY_FDB_CODE.get(fdbCode);
}

/**
 * FDB errors its own `on_error` retries that the contract has no specific code for: the cluster is
 * behind or throttling (future_version 1009, process_behind 1037, cluster_version_changed 1039,
 * proxy_memory_limit_exceeded 1042, batch_transaction_throttled 1051,
 * grv_proxy_memory_limit_exceeded 1078, tag_throttled 1213). Reported as the retryable
 * `ERR_KV_CLUSTER_BUSY` so the shared retry loop backs off and retries them as FDB would.
 */
export const BUSY_FDB_CODES: ReadonlySet<number> = new Set([1009, 1037, 1039, 1042, 1051, 1078, 1213]);

/**
 * The StrataError for FDB error `fdbCode` with FDB's `description`: the contract's code when there is
 * one, else `ERR_KV_ENGINE_FAILED` with `details.fdbCode`, so callers never see a raw FDBError.
 */
export function fdbErrorToStrata(fdbCode: number, description: string, cause?: unknown): StrataError {
  const message = `FoundationDB error ${fdbCode}: ${description}`;
  const code = contractCodeForFdb(fdbCode);
  if (code === undefined) {
    if (BUSY_FDB_CODES.has(fdbCode)) {
      return new StrataError('ERR_KV_CLUSTER_BUSY', message, { details: { fdbCode, retryable: true }, cause });
    }
    return new StrataError('ERR_KV_ENGINE_FAILED', message, { details: { fdbCode }, cause });
  }
  const err = kvError(code, message);
  // kvError takes no cause; define it as the Error constructor would (own, non-enumerable), so logs
  // still show FDB's original error.
  if (cause !== undefined) Object.defineProperty(err, 'cause', { value: cause, writable: true, configurable: true });
  return err;
}

/** True for node-foundationdb's `FDBError`: an Error whose `code` is a number (Node's own errors have string codes). */
export function isFdbError(err: unknown): err is Error & { readonly code: number } {
  return err instanceof Error && typeof (err as { code?: unknown }).code === 'number';
}

/**
 * Map anything a node-foundationdb call threw onto the contract: FDB errors become StrataErrors;
 * anything else (a StrataError, a TypeError from bad arguments) is returned unchanged.
 */
export function mapFdbError(err: unknown): unknown {
  return isFdbError(err) ? fdbErrorToStrata(err.code, err.message, err) : err;
}
