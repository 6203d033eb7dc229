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
export { VERSION } from './version.js';
export { tenantHandle, type TenantHandle } from './tenancy/tenant.js';
export { TenantTransaction } from './tenancy/scoped.js';
export {
  countTenants,
  createTenant,
  deleteTenant,
  getTenant,
  listTenants,
  renameTenant,
  requireTenant,
  tenantIdHex,
  type ListTenantsOptions,
  type TenantInfo,
} from './tenancy/registry.js';
export { TENANT_KEY_SIZE_LIMIT } from './tenancy/layout.js';
export { openStrata, Strata, type StrataOptions, type TenantCaller, type TenantHandle as TokenTenantHandle } from './strata.js';
export { NativeClient, type NativeClientOptions } from './client/native-client.js';
export { snapshotChunks, writeSnapshotFile, type CreateOptions, type SnapshotSummary, type SnapshotTarget } from './snapshot/create.js';
export { restoreSnapshot, restoreSnapshotFile, type RestoreOptions, type RestoreProgress, type RestoreResult } from './snapshot/restore.js';
export { readSnapshotInfo, type SnapshotInfo } from './snapshot/info.js';
export { cleanOrphanRestores } from './snapshot/claims.js';
