/**
 * Strata's library face: open a database, run transactions, build keys, manage tenants.
 * @packageDocumentation
 */
export { ERROR_CODES, StrataError, isStrataError, type ErrorCode, type StrataErrorOptions } from './errors.js';
export type {
  Database,
  EngineName,
  KeyValue,
  RangeOptions,
  RangeResult,
  ReadOptions,
  TransactOptions,
  Transaction,
} from './kv/types.js';
export { openDatabase, type OpenOptions } from './kv/open.js';
export { LIMITS } from './kv/limits.js';
export { isRetryable } from './kv/transact.js';
export { pack, unpack, tupleRange, type Tuple, type TupleItem } from './kv/tuple.js';
export { Subspace } from './kv/subspace.js';
export { concatBytes, keyAfter, prefixEnd } from './kv/keys.js';
