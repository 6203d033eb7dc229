/**
 * Strata's one error base class and its registry of stable codes.
 *
 * Every error that crosses a module boundary because of bad data or a failed operation is a
 * `StrataError` with a code from `ERROR_CODES`, so callers switch on `err.code` instead of matching
 * message text. Programmer mistakes (bad options) throw `TypeError`/`RangeError` instead.
 *
 * This module is a leaf: it imports nothing of ours, so every layer (kv included) may use it.
 */

/**
 * Every stable error code with a one-line description. The server maps each to an HTTP status and a
 * test checks that every code here is documented in the README.
 */
export const ERROR_CODES = {
  // Key-value contract (FoundationDB's error numbers are in `details.fdbCode`).
  ERR_KV_NOT_COMMITTED: 'the transaction conflicted with another one and was not committed (retryable)',
  ERR_KV_CLUSTER_BUSY: 'FoundationDB asked the client to back off and retry (throttled or behind; retryable)',
  ERR_KV_COMMIT_UNKNOWN: 'the commit may or may not have happened (retryable; make transactions idempotent)',
  ERR_KV_TRANSACTION_TOO_OLD: 'the transaction is older than the 5-second MVCC window (retryable)',
  ERR_KV_TRANSACTION_TIMED_OUT: 'the transaction ran past the timeout it was given',
  ERR_KV_TRANSACTION_TOO_LARGE: 'the transaction wrote more than 10,000,000 bytes',
  ERR_KV_KEY_TOO_LARGE: 'a key is longer than the key size limit',
  ERR_KV_VALUE_TOO_LARGE: 'a value is longer than 100,000 bytes',
  ERR_KV_KEY_OUTSIDE_LEGAL_RANGE: 'a key or range bound lies at or beyond \\xff, the reserved system keyspace',
  ERR_KV_INVERTED_RANGE: 'a range to clear has its begin after its end',
  ERR_KV_TRANSACTION_CLOSED: 'the transaction was used after it committed or was cancelled',
  ERR_KV_DATABASE_CLOSED: 'the database was used after it was closed',
  ERR_KV_DATA_DIR_LOCKED: 'another process holds the data directory',
  ERR_KV_STORE_NOT_FOUND: 'the data directory holds no store, and the caller asked not to create one',
  ERR_KV_ENGINE_UNAVAILABLE: 'the storage engine cannot be loaded on this machine',
  ERR_KV_ENGINE_FAILED: 'the storage engine reported an error that is not part of the contract',
  // Tenancy.
  ERR_TENANT_NAME_INVALID: 'a tenant name is empty, longer than 255 bytes, or holds control characters',
  ERR_TENANT_EXISTS: 'a tenant with that name already exists',
  ERR_TENANT_NOT_FOUND: 'no tenant has that name',
  ERR_TENANT_NOT_EMPTY: 'the tenant still holds data; delete it with force to remove the data too',
  ERR_TENANT_LIMIT_INVALID: 'a listing limit is not a positive whole number',
  // Authorization (fixed by DESIGN §6).
  ERR_AUTH_TOKEN_MISSING: 'no token (or an empty one) was presented where one is required',
  ERR_AUTH_TOKEN_INVALID: 'the token is malformed, its signature or header does not verify, or its claims are invalid',
  ERR_AUTH_TOKEN_EXPIRED: 'the token has expired',
  ERR_AUTH_TOKEN_REVOKED: 'the token was revoked',
  ERR_AUTH_TOKEN_TOO_LARGE: 'the token is longer than the maximum token size',
  ERR_AUTH_TENANT_FORBIDDEN: 'the token does not grant the tenant the request addresses',
  ERR_AUTH_TRUSTED_ONLY: 'only trusted callers (mutual TLS from a trusted subnet) may do this',
  ERR_ACCESS_READ_ONLY: 'the token grants read access only (access "r"); nothing was written',
  ERR_ACCESS_RESERVED_KEYS: 'an untrusted caller tried to write a tenant’s keys from \\xfe on, where Strata’s layers keep its collections and usage counters; nothing was written',
  ERR_ACCESS_COLLECTION_SCOPED: 'the token is limited to collections (an access list), so it cannot use the native key-value API',
  ERR_AUTH_APIKEY_INVALID: 'the API key is not valid: unknown, wrong, expired or revoked (one answer for all, so a guesser learns nothing)',
  ERR_AUTH_REFRESH_INVALID: 'the refresh token is not valid: unknown, expired, spent, or of a revoked family or key',
  ERR_AUTH_REFRESH_REUSED: 'the refresh token was already used, so it was copied: its whole family is revoked',
  ERR_AUTH_GRANT_EXCEEDS_KEY: 'a token request asks for tenants or access beyond what its API key grants',
  ERR_APIKEY_NOT_FOUND: 'no API key has that id',
  ERR_AUTH_KEYSET_INVALID: 'a JWK Set (the file, or an identity provider’s JWKS URL) is not a valid key set or cannot be read or fetched; the previous key set stays in force',
  // Record layer and the Qdrant-compatible API.
  ERR_COLLECTION_NOT_FOUND: 'no collection has that name in the tenant',
  ERR_COLLECTION_EXISTS: 'a collection with that name already exists in the tenant',
  ERR_COLLECTION_NAME_INVALID: 'a collection name is empty, longer than 255 bytes, or holds characters a path cannot',
  ERR_COLLECTION_CONFIG_INVALID: 'the collection parameters (vectors, distance, HNSW, sharding) are not valid',
  ERR_POINT_ID_INVALID: 'a point id is not an unsigned integer (up to 2^53 - 1), a UUID, or a string of 1 to 256 bytes',
  ERR_POINT_NOT_FOUND: 'no point has that id in the collection',
  ERR_VECTOR_INVALID: 'a vector has the wrong size, a value that is not a finite number, or a name the collection does not have',
  ERR_PAYLOAD_INVALID: 'a payload is not a JSON object, or a payload key or path is malformed',
  ERR_POINT_TOO_LARGE: 'a point (vectors and payload) is larger than one stored value may be (100,000 bytes)',
  ERR_FILTER_INVALID: 'a filter does not follow the filter grammar',
  ERR_INDEX_INVALID: 'a payload index schema is not valid, or names a type the field cannot have',
  ERR_QUERY_INVALID: 'a query, search, scroll or count request is not valid',
  ERR_SHARD_KEY_INVALID: 'a shard key is missing, unknown to the collection, or given to a collection without custom sharding',
  ERR_ACCESS_COLLECTION_DENIED: 'the token grants no access to that collection',
  ERR_ACCESS_MANAGE_REQUIRED: 'the operation needs manage access (collection management), which the token does not grant',
  ERR_ACCESS_PAYLOAD_SCOPE: 'a write would reach points outside the token’s payload scope, or change its scoped fields; nothing was written',
  ERR_FEATURE_UNSUPPORTED: 'Strata does not offer this Qdrant feature (yet); the request was not run',
  // Limits.
  ERR_STRICT_MODE: 'the request passes a limit of the collection’s strict mode (Qdrant’s strict_mode_config); nothing was run',
  ERR_RATE_LIMITED: 'a read or write rate limit (of the collection, the tenant or the token’s subject) is used up; retry after Retry-After seconds',
  ERR_QUOTA_EXCEEDED: 'the write would make the tenant hold more points or bytes than its quota; nothing was written',
  // Snapshots.
  ERR_SNAPSHOT_INVALID: 'the file is not a Strata snapshot, or it is corrupt or truncated (details name the failed check and its byte offset); nothing was changed',
  ERR_SNAPSHOT_VERSION_UNSUPPORTED: 'the snapshot is in a format version this Strata cannot read; nothing was changed',
  ERR_SNAPSHOT_KIND_MISMATCH: 'a collection snapshot was given where a tenant snapshot is restored, or the reverse; nothing was changed',
  ERR_SNAPSHOT_NOT_FOUND: 'no snapshot has that name (in this tenant and collection)',
  ERR_SNAPSHOT_NAME_INVALID: 'a snapshot name is empty, too long, or holds a path separator or a character a file name cannot',
  ERR_SNAPSHOT_RESTORE_ABORTED: 'the restore lost its claim before it switched (taken for an orphan, or its tenant was replaced meanwhile); nothing was changed',
  ERR_BACKUP_UNSUPPORTED: 'whole-store backup needs the embedded engine (FoundationDB clusters are backed up with fdbbackup)',
  ERR_BACKUP_OUTPUT_EXISTS: 'the backup output exists and is not an empty directory',
  // Requests to the server.
  ERR_REQUEST_INVALID: 'the request body or parameters do not match what the route takes',
  ERR_REQUEST_TOO_LARGE: 'the request body is larger than the server accepts',
  ERR_REQUEST_RESULT_TOO_LARGE: 'the reads of one request would return more than the server sends in one answer',
  ERR_ROUTE_NOT_FOUND: 'no route has that method and path',
  ERR_KV_COMPARE_FAILED: 'a compare of the transact request did not hold; nothing was written',
  ERR_SERVER_INTERNAL: 'the server failed unexpectedly (the log has the cause)',
  ERR_SERVER_OVERLOADED: 'the server is answering as many requests as it may at once; retry after Retry-After seconds',
  // The native API client.
  ERR_CLIENT_CONNECTION_FAILED: 'the client could not reach the server (connection refused, TLS failure, name not found)',
  // Command line.
  ERR_CLI_INVALID_ARGUMENT: 'a command-line argument could not be parsed',
} as const;

/** The union of every stable error code. */
export type ErrorCode = keyof typeof ERROR_CODES;

/** Options accepted by {@link StrataError}. */
export interface StrataErrorOptions {
  /** Structured facts about the failure (never secrets): shown to API callers. */
  readonly details?: Readonly<Record<string, unknown>>;
  /** The underlying error, kept for logs. */
  readonly cause?: unknown;
}

/**
 * The base class of every error Strata reports with a stable code.
 *
 * @example
 * try { await db.transact(tx => …) } catch (err) {
 *   if (err instanceof StrataError && err.code === 'ERR_KV_KEY_TOO_LARGE') …
 * }
 */
export class StrataError<C extends ErrorCode = ErrorCode> extends Error {
  override readonly name = 'StrataError';
  readonly code: C;
  readonly details: Readonly<Record<string, unknown>> | undefined;

  constructor(code: C, message: string, options: StrataErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.details = options.details;
  }
}

/** True when `err` is a StrataError, optionally with one of the given codes. */
export function isStrataError(err: unknown, ...codes: ErrorCode[]): err is StrataError {
  return err instanceof StrataError && (codes.length === 0 || codes.includes(err.code));
}

/** A bad command-line or option value (`ERR_CLI_INVALID_ARGUMENT`), for the CLI and what it drives. */
export function invalidArgument(message: string): StrataError<'ERR_CLI_INVALID_ARGUMENT'> {
  return new StrataError('ERR_CLI_INVALID_ARGUMENT', message);
}
