/**
 * The contract's limits, enforced identically by every engine.
 *
 * Values and transaction size are FoundationDB's. The key limit is the smaller of FoundationDB's
 * (10,000 bytes) and what the embedded engine can store: LMDB's 1978-byte key limit less the one
 * byte the embedded engine puts before every key (LMDB cannot store an empty key; FoundationDB can).
 */
export const LIMITS = {
  /** Longest key in bytes. */
  keySize: 1977,
  /** Longest value in bytes (FoundationDB's `value_too_large` above this). */
  valueSize: 100_000,
  /** Most bytes one transaction may write, counted as FoundationDB does (see `transactionSize`). */
  transactionSize: 10_000_000,
  /** How long a read version stays readable, in ms (FoundationDB's MVCC window). */
  mvccWindowMs: 5_000,
} as const;

/** The first key past the legal keyspace: FoundationDB's system keys start here. */
export const SYSTEM_KEY_PREFIX = 0xff;
