/**
 * The key-value contract every storage engine implements, modelled on FoundationDB so that code
 * written against the embedded engine behaves the same on a FoundationDB cluster.
 *
 * Keys and values are bytes. Keys order bytewise (shorter first on a common prefix). The legal
 * keyspace is [``, `\xff`): keys at or beyond `\xff` are FoundationDB's system keys.
 */

/** One key and its value, as a range read returns them. */
export interface KeyValue {
  readonly key: Uint8Array;
  readonly value: Uint8Array;
}

/** Options of a point read. */
export interface ReadOptions {
  /** A snapshot read adds no read conflict: a later write by another transaction will not abort this one. */
  readonly snapshot?: boolean;
}

/** Options of a range read. */
export interface RangeOptions extends ReadOptions {
  /** At most this many pairs (a positive integer); all when absent. */
  readonly limit?: number;
  /** Return pairs from the end of the range backwards. */
  readonly reverse?: boolean;
}

/** What a range read returns. */
export interface RangeResult {
  /** The pairs, in key order (reversed when `reverse` was given). */
  readonly kvs: KeyValue[];
  /** True when the limit stopped the read before the end of the range. */
  readonly more: boolean;
}

/**
 * A transaction: reads see a consistent snapshot plus this transaction's own writes; writes are
 * buffered and applied atomically at commit, which fails with a retryable conflict if anything this
 * transaction read (without `snapshot`) was changed by a transaction that committed since.
 *
 * Functions that touch storage take a `Transaction` as their first argument, so callers can compose
 * several of them into one atomic unit.
 */
export interface Transaction {
  /** The value at `key`, or `undefined` when there is none. */
  get(key: Uint8Array, options?: ReadOptions): Promise<Uint8Array | undefined>;
  /** The pairs with `begin <= key < end`. An empty or inverted range returns nothing. */
  getRange(begin: Uint8Array, end: Uint8Array, options?: RangeOptions): Promise<RangeResult>;
  /** Set `key` to `value`. */
  set(key: Uint8Array, value: Uint8Array): void;
  /** Remove `key` (a no-op when absent). */
  clear(key: Uint8Array): void;
  /** Remove every key with `begin <= key < end`. */
  clearRange(begin: Uint8Array, end: Uint8Array): void;
  /**
   * Atomically add `param` to the value at `key`, both read as little-endian unsigned integers of
   * `param`'s length (a missing value counts as zero; a longer one is truncated), as FoundationDB's
   * ADD mutation. Adds no read conflict, so concurrent adds never conflict with each other.
   */
  add(key: Uint8Array, param: Uint8Array): void;
}

/** Options of {@link Database.transact}. */
export interface TransactOptions {
  /** How many times a retryable failure is retried before it is thrown (default 100). */
  readonly retryLimit?: number;
  /**
   * Milliseconds after which the transaction fails with `ERR_KV_TRANSACTION_TIMED_OUT` (not
   * retried), as FoundationDB's `timeout` option. Default: none; the 5-second MVCC window still
   * applies (`ERR_KV_TRANSACTION_TOO_OLD`).
   */
  readonly timeoutMs?: number;
  /** The longest pause between retries in milliseconds (default 1000, as FoundationDB). */
  readonly maxRetryDelayMs?: number;
}

/** Which engine serves a database. */
export type EngineName = 'embedded' | 'foundationdb';

/** An open database. */
export interface Database {
  readonly engine: EngineName;
  /**
   * Run `fn` in a transaction and commit it, retrying the whole function on retryable errors
   * (conflicts, a transaction too old, an unknown commit result) with exponential backoff. Other
   * errors propagate unchanged. `fn` may run more than once: keep side effects out of it.
   *
   * @example
   * const n = await db.transact(async tx => {
   *   const v = await tx.get(key);
   *   tx.set(key, next(v));
   *   return v;
   * });
   */
  transact<T>(fn: (tx: Transaction) => Promise<T>, options?: TransactOptions): Promise<T>;
  /** Finish in-flight commits and release the engine. Further use fails with `ERR_KV_DATABASE_CLOSED`. */
  close(): Promise<void>;
  /**
   * A read-only view of the whole keyspace at one version that, unlike a transaction, may be read
   * for longer than the 5-second MVCC window: what a consistent snapshot of a large tenant needs.
   * Only engines that can hold a version that long have it (the embedded engine: one LMDB read
   * transaction); FoundationDB cannot, so it is absent there. Close the reader when done: while it
   * is open, the engine keeps every page it can see.
   */
  openSnapshotReader?(): SnapshotReader;
  /**
   * Copy the whole store, compacted, into `dir` (a new or empty directory), consistent at one
   * version, while the database stays in use: `dir` is then a store `openDatabase({ dataDir: dir })`
   * opens. Only the embedded engine has it (LMDB's compacting copy); FoundationDB clusters are backed
   * up with `fdbbackup`.
   */
  backup?(dir: string): Promise<void>;
}

/** A long-lived read-only view at one version: see {@link Database.openSnapshotReader}. */
export interface SnapshotReader {
  /** The commit version the reader sees. */
  readonly version: number;
  /** The value at `key`, or `undefined`. */
  get(key: Uint8Array): Promise<Uint8Array | undefined>;
  /** The pairs with `begin <= key < end`, in key order, at most `limit` of them. */
  getRange(begin: Uint8Array, end: Uint8Array, options: { readonly limit: number }): Promise<RangeResult>;
  /** Release the version. Safe to call more than once; reads after it fail with `ERR_KV_TRANSACTION_CLOSED`. */
  close(): void;
}

/**
 * What an engine provides to the shared retry loop: a fresh transaction per attempt.
 * Not part of the public face; engines implement it.
 */
export interface EngineTransaction extends Transaction {
  /** Apply the buffered writes atomically and durably, or throw a contract error. */
  commit(): Promise<void>;
  /** Release the transaction's resources without committing. Safe to call more than once. */
  cancel(): void;
}

/** A storage engine behind the contract. */
export interface Engine {
  readonly name: EngineName;
  /** A new transaction. `deadline` (epoch ms) is when it times out, if it has a timeout. */
  createTransaction(deadline: number | undefined): EngineTransaction;
  close(): Promise<void>;
  /** See {@link Database.openSnapshotReader}; absent where the engine cannot hold a version. */
  openSnapshotReader?(): SnapshotReader;
  /** See {@link Database.backup}; absent where the engine has no whole-store copy. */
  backup?(dir: string): Promise<void>;
}
