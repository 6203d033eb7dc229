import type { Database as LmdbDatabase, RootDatabase, Transaction as LmdbReadTxn } from 'lmdb';
import { StrataError } from '../../errors.js';
import { kvError } from '../kv-errors.js';
import type { KeyValue, RangeResult, SnapshotReader } from '../types.js';
import { checkKey, checkLimit, checkRangeBound, compareKeys } from '../validate.js';
import { decodeVersion, inStoredRange, lmdbRange, storedKey, VERSION_KEY } from './stored-keys.js';

/**
 * The embedded engine's long-lived reader: one LMDB read transaction, held until closed. LMDB
 * readers see one committed state for as long as they live, and the committer writes the data and
 * the version key in one LMDB write transaction, so `version` and every read agree, however long
 * the reader is kept (a transaction is cut off after 5 s only to match FoundationDB's window). While
 * it lives, LMDB cannot reuse the pages it sees, so the file may grow under heavy writes: close it
 * as soon as the read is done.
 */
export class EmbeddedSnapshotReader implements SnapshotReader {
  readonly version: number;
  readonly #data: LmdbDatabase<Buffer, Buffer>;
  readonly #isClosed: () => boolean;
  readonly #onClose: (reader: EmbeddedSnapshotReader) => void;
  #txn: LmdbReadTxn | null;

  constructor(
    env: RootDatabase<Buffer, Buffer>,
    dbs: { data: LmdbDatabase<Buffer, Buffer>; meta: LmdbDatabase<Buffer, Buffer> },
    hooks: { isClosed: () => boolean; onClose: (reader: EmbeddedSnapshotReader) => void },
  ) {
    const { meta } = dbs;
    this.#data = dbs.data;
    this.#isClosed = hooks.isClosed;
    this.#onClose = hooks.onClose;
    const txn = env.useReadTransaction();
    this.#txn = txn;
    this.version = decodeVersion(meta.get(VERSION_KEY, { transaction: txn }));
  }

  async get(key: Uint8Array): Promise<Uint8Array | undefined> {
    checkKey(key);
    return this.#data.get(storedKey(key), { transaction: this.#live() });
  }

  async getRange(begin: Uint8Array, end: Uint8Array, options: { readonly limit: number }): Promise<RangeResult> {
    checkRangeBound(begin);
    checkRangeBound(end);
    checkLimit(options.limit);
    const txn = this.#live();
    if (compareKeys(begin, end) >= 0) return { kvs: [], more: false };
    const sb = storedKey(begin);
    const se = storedKey(end);
    const { options: range, exact } = lmdbRange(sb, se, false);
    const kvs: KeyValue[] = [];
    let more = false;
    // Iterated by hand so the cursor closes as soon as one row past the limit shows there is more.
    for (const { key, value } of this.#data.getRange({ ...range, transaction: txn })) {
      if (!exact && !inStoredRange(key, sb, se)) continue;
      if (kvs.length === options.limit) {
        more = true;
        break;
      }
      // lmdb-js hands out a fresh buffer per key: a view past the stored byte needs no copy.
      kvs.push({ key: key.subarray(1), value });
    }
    return { kvs, more };
  }

  close(): void {
    const txn = this.#txn;
    if (txn === null) return;
    this.#txn = null;
    this.#onClose(this);
    try {
      txn.done();
    } catch {
      // Already released by LMDB (the environment closed): nothing left to free.
    }
  }

  #live(): LmdbReadTxn {
    if (this.#isClosed()) throw new StrataError('ERR_KV_DATABASE_CLOSED', 'the database is closed');
    if (this.#txn === null) throw kvError('ERR_KV_TRANSACTION_CLOSED', 'the snapshot reader was used after it was closed');
    return this.#txn;
  }
}
