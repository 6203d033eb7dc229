import { StrataError } from '../../errors.js';

/**
 * Loading node-foundationdb (the `foundationdb` npm package, 2.x) on demand.
 *
 * The package is an optional dependency: its native module links against libfdb_c, which only
 * machines with the FoundationDB client package have. Importing it lazily keeps the embedded engine
 * (and the test suite) working everywhere, and turns a missing client into one clear error.
 *
 * The interfaces below describe only the part of node-foundationdb 2.0.1 the adapter uses, in its
 * own terms (lib/index.ts, lib/database.ts, lib/transaction.ts), so nothing untyped leaks out.
 */

/**
 * The FoundationDB API version Strata speaks. 720 is the newest node-foundationdb 2.0.1 accepts
 * (lib/apiVersion.ts `MAX_VERSION`), and 7.2 and 7.3 clients and servers both support it.
 */
export const FDB_API_VERSION = 720;

/**
 * A key selector as node-foundationdb's `getRangeNative` reads it (lib/keySelector.ts): the first key
 * after the last key less than `key` (or equal, with `orEqual`), moved by `offset`.
 */
export interface FdbKeySelector {
  readonly key: Buffer;
  readonly orEqual: boolean;
  readonly offset: number;
  /** node-foundationdb's brand for selectors; set so ours look like its own. */
  readonly _isKeySelector: true;
}

/** One batch of a range read: pairs as `[key, value]`, and FDB's `more` flag (lib/native.ts `KVList`). */
export interface FdbRangeBatch {
  readonly results: ReadonlyArray<readonly [Buffer, Buffer]>;
  readonly more: boolean;
}

/** The transaction methods the adapter calls (node-foundationdb's `Transaction`, root subspace). */
export interface FdbTransaction {
  /** The value at `key`; snapshot or not depending on which view this is. */
  get(key: Buffer): Promise<Buffer | undefined>;
  /** The same native transaction, reading without read conflicts. */
  snapshot(): FdbTransaction;
  set(key: Buffer, value: Buffer): void;
  clear(key: Buffer): void;
  clearRange(begin: Buffer, end: Buffer): void;
  /** `fdb_transaction_atomic_op` with raw bytes (no value encoding). */
  atomicOpNative(op: number, key: Buffer, param: Buffer): void;
  /** One `fdb_transaction_get_range` call: a single batch, not the whole range. */
  getRangeNative(
    start: FdbKeySelector,
    end: FdbKeySelector,
    limit: number,
    targetBytes: number,
    streamingMode: number,
    iteration: number,
    reverse: boolean,
  ): Promise<FdbRangeBatch>;
  /** `fdb_transaction_commit`, without node-foundationdb's retry loop. */
  rawCommit(): Promise<void>;
  /** `fdb_transaction_cancel`. */
  rawCancel(): void;
}

/** Transaction options the adapter sets when creating a transaction (lib/opts.g.ts `TransactionOptions`). */
export interface FdbTransactionOptions {
  /** FDB's `timeout` option (code 500), in milliseconds; 0 would mean none, so it is never 0 here. */
  readonly timeout?: number;
}

/** The database methods the adapter calls (node-foundationdb's `Database`). */
export interface FdbDatabase {
  /** A bare transaction; node-foundationdb's `doTransaction` retry loop is not used (ours is). */
  rawCreateTransaction(options?: FdbTransactionOptions): FdbTransaction;
  /** `fdb_database_destroy`. */
  close(): void;
}

/** The module-level part of node-foundationdb the adapter uses. */
export interface FdbBinding {
  setAPIVersion(version: number): void;
  /** Opens a database from a cluster file, starting FDB's network thread on first use. */
  open(clusterFile?: string): FdbDatabase;
  readonly StreamingMode: { readonly WantAll: number };
  readonly MutationType: { readonly Add: number };
}

/** The package's name, kept in a variable so TypeScript does not try to resolve a module that may be absent. */
const PACKAGE_NAME: string = 'foundationdb';

const INSTALL_HINT =
  'To use a FoundationDB cluster, install the FoundationDB client package first ' +
  '(foundationdb-clients 7.x, e.g. foundationdb-clients_7.3.63-1_amd64.deb from ' +
  'https://github.com/apple/foundationdb/releases; it provides libfdb_c and fdb_c.h), ' +
  'then run `npm install foundationdb` (or `npm rebuild foundationdb` if it is already installed) ' +
  'so its native module is built against that library. ' +
  'The embedded engine (`--data-dir`) needs none of this.';

function unavailable(reason: string, cause: unknown): StrataError {
  return new StrataError('ERR_KV_ENGINE_UNAVAILABLE', `The FoundationDB engine is unavailable: ${reason}. ${INSTALL_HINT}`, {
    details: { package: PACKAGE_NAME, apiVersion: FDB_API_VERSION },
    cause,
  });
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return (typeof v === 'object' || typeof v === 'function') && v !== null;
}

function hasNumber(v: unknown, name: string): boolean {
  return isRecord(v) && typeof v[name] === 'number';
}

/** Checks the loaded module at run time: the interfaces above are only as true as this check. */
function isBinding(v: unknown): v is FdbBinding {
  return (
    isRecord(v) &&
    typeof v['open'] === 'function' &&
    typeof v['setAPIVersion'] === 'function' &&
    hasNumber(v['StreamingMode'], 'WantAll') &&
    hasNumber(v['MutationType'], 'Add')
  );
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/**
 * Load node-foundationdb and select API version 720.
 *
 * Throws `ERR_KV_ENGINE_UNAVAILABLE` (with the underlying error as `cause`) when the package is not
 * installed, when its native module or libfdb_c cannot be loaded, or when the installed libfdb_c is
 * too old for API version 720, so `strata` can tell the user exactly what to install.
 *
 * Nothing is cached here: Node's module cache already returns the same module on later calls, and
 * node-foundationdb ignores a repeated `setAPIVersion` with the same version (lib/apiVersion.ts), so
 * the native `fdb_select_api_version` runs once per process.
 */
export async function loadFdb(): Promise<FdbBinding> {
  let namespace: unknown;
  try {
    namespace = await import(PACKAGE_NAME);
  } catch (err) {
    const notInstalled = isRecord(err) && err['code'] === 'ERR_MODULE_NOT_FOUND';
    const reason = notInstalled
      ? 'the `foundationdb` npm package is not installed'
      : `the \`foundationdb\` package could not load its native module or libfdb_c (${messageOf(err)})`;
    throw unavailable(reason, err);
  }
  // node-foundationdb is CommonJS: `default` is its `module.exports`; the named exports Node derives
  // from it are a fallback.
  const candidates = isRecord(namespace) ? [namespace['default'], namespace] : [];
  const binding = candidates.find(isBinding);
  if (binding === undefined) {
    throw unavailable('the installed `foundationdb` package does not have the API of node-foundationdb 2.x', undefined);
  }
  try {
    binding.setAPIVersion(FDB_API_VERSION);
  } catch (err) {
    throw unavailable(
      `FoundationDB API version ${FDB_API_VERSION} could not be selected; libfdb_c must be 7.2 or newer, ` +
        `and no other code in this process may have chosen another version (${messageOf(err)})`,
      err,
    );
  }
  return binding;
}
