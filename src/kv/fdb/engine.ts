import { StrataError } from '../../errors.js';
import { kvError } from '../kv-errors.js';
import type { Engine, EngineTransaction, KeyValue, RangeOptions, RangeResult, ReadOptions } from '../types.js';
import { checkKey, checkLimit, checkRangeBound, checkValue, compareKeys } from '../validate.js';
import { mapFdbError } from './errors.js';
import { loadFdb, type FdbBinding, type FdbDatabase, type FdbKeySelector, type FdbTransaction } from './load.js';

/**
 * The FoundationDB engine: the key-value contract on a FoundationDB cluster through node-foundationdb.
 *
 * Each contract transaction is one raw FDB transaction; retries belong to the shared loop in
 * transact.ts, so both engines retry the same errors the same way. Arguments are checked exactly as
 * the embedded engine checks them, before FDB sees them, so both engines refuse the same input with
 * the same code. Tenants are Strata's own key prefixes: FDB's tenant API and system keys (the
 * `access_system_keys` option) are never used.
 */

/** The largest value FDB's int options and row limits take (they are C `int`s). */
const INT32_MAX = 2_147_483_647;

/** `firstGreaterOrEqual(key)` in node-foundationdb's terms (lib/keySelector.ts). */
function firstGreaterOrEqual(key: Buffer): FdbKeySelector {
  return { key, orEqual: false, offset: 1, _isKeySelector: true };
}

/** `firstGreaterThan(key)` in node-foundationdb's terms (lib/keySelector.ts). */
function firstGreaterThan(key: Buffer): FdbKeySelector {
  return { key, orEqual: true, offset: 1, _isKeySelector: true };
}

/** The binding wants Buffers; a view over the caller's bytes avoids a copy (FDB copies on its side). */
function toBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** Plain Uint8Array views, as the contract (and the embedded engine) return, not Buffers. */
function toBytes(buf: Buffer): Uint8Array {
  return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
}

function toKvs(rows: ReadonlyArray<readonly [Buffer, Buffer]>): KeyValue[] {
  return rows.map(([key, value]) => ({ key: toBytes(key), value: toBytes(value) }));
}


type State = 'open' | 'finished';

class FdbEngineTransaction implements EngineTransaction {
  readonly #binding: FdbBinding;
  /** Undefined when the deadline had already passed at creation: FDB is never asked. */
  readonly #tn: FdbTransaction | undefined;
  #snapshotView: FdbTransaction | undefined;
  #state: State = 'open';
  readonly #deadline: number | undefined;
  readonly #trackCommit: (commit: Promise<void>) => void;

  constructor(binding: FdbBinding, db: FdbDatabase, deadline: number | undefined, trackCommit: (commit: Promise<void>) => void) {
    this.#binding = binding;
    this.#deadline = deadline;
    this.#trackCommit = trackCommit;
    let timeout: number | undefined;
    if (deadline !== undefined) {
      // FDB's timeout counts from the transaction's creation; the deadline spans every attempt of
      // the retry loop, so each attempt gets what is left. Rounded up because 0 means "no timeout".
      const remaining = Math.ceil(deadline - Date.now());
      if (remaining <= 0) {
        this.#tn = undefined;
        return;
      }
      timeout = Math.min(remaining, INT32_MAX);
    }
    try {
      this.#tn = db.rawCreateTransaction(timeout === undefined ? undefined : { timeout });
    } catch (err) {
      throw mapFdbError(err);
    }
  }

  /** The FDB transaction, or the contract error for a finished or timed-out one. */
  #live(): FdbTransaction {
    if (this.#state !== 'open') {
      throw kvError('ERR_KV_TRANSACTION_CLOSED', 'the transaction was used after it committed or was cancelled');
    }
    // FDB's timeout fails reads and the commit; checking here too makes writes fail at once, as they
    // do on the embedded engine (FDB's own set/clear return nothing and would only fail at commit).
    if (this.#tn === undefined || (this.#deadline !== undefined && Date.now() >= this.#deadline)) {
      throw kvError('ERR_KV_TRANSACTION_TIMED_OUT', 'the transaction timed out');
    }
    return this.#tn;
  }

  /** The view reads go through: snapshot reads add no read conflict. */
  #reader(snapshot: boolean | undefined): FdbTransaction {
    const tn = this.#live();
    return snapshot === true ? this.#snapshotOf(tn) : tn;
  }

  /** The snapshot view of the same native transaction (node-foundationdb's `tn.snapshot()`). */
  #snapshotOf(tn: FdbTransaction): FdbTransaction {
    this.#snapshotView ??= tn.snapshot();
    return this.#snapshotView;
  }

  async get(key: Uint8Array, options: ReadOptions = {}): Promise<Uint8Array | undefined> {
    checkKey(key);
    const tn = this.#reader(options.snapshot);
    try {
      const value = await tn.get(toBuffer(key));
      return value === undefined ? undefined : toBytes(value);
    } catch (err) {
      throw mapFdbError(err);
    }
  }

  /**
   * `more` is exact, and the read conflicts are the embedded engine's: the whole range when nothing
   * follows, else only up to the last pair returned.
   *
   * FDB's own `more` flag cannot be used: it is set whenever the row limit is reached, even when
   * nothing follows (`fdb_future_get_keyvalue_array`: "true if (but not necessarily only if) values
   * remain"; NativeAPI `output.more = ... || limits.isReached() || ...`). Reading limit + 1 pairs
   * would make it exact but take a read conflict on the extra pair, which the embedded engine does
   * not. So a non-snapshot read fetches `limit` pairs (FDB then records a conflict up to just past
   * the last, or from the last in reverse: ReadYourWrites.actor.cpp `addConflictRange`), and when it got exactly `limit` it peeks at the next pair with a snapshot read (no
   * conflict). If there is none, the rest of the range is added as a read conflict explicitly, so
   * "nothing follows" is protected exactly as FDB protects a range read to its end. Snapshot reads
   * take no conflicts at all and simply fetch limit + 1.
   */
  async getRange(begin: Uint8Array, end: Uint8Array, options: RangeOptions = {}): Promise<RangeResult> {
    checkRangeBound(begin);
    checkRangeBound(end);
    checkLimit(options.limit);
    const snapshot = options.snapshot === true;
    const tn = this.#reader(snapshot);
    if (compareKeys(begin, end) >= 0) return { kvs: [], more: false };

    const reverse = options.reverse === true;
    const limit = options.limit;
    const lo = toBuffer(begin);
    const hi = toBuffer(end);
    try {
      if (limit === undefined) return { kvs: toKvs(await this.#read(tn, lo, hi, undefined, reverse)), more: false };
      // One row past the limit tells `more` exactly. It is read like the others, so (as on the
      // embedded engine) the conflict range covers it: a transaction that saw `more` conflicts with
      // one that removes the row behind it.
      const rows = await this.#read(tn, lo, hi, limit + 1, reverse);
      const more = rows.length > limit;
      if (more) rows.length = limit;
      return { kvs: toKvs(rows), more };
    } catch (err) {
      throw mapFdbError(err);
    }
  }

  /**
   * Up to `cap` pairs of [lo, hi) (all when undefined). FDB returns a range in batches (byte limits,
   * shard boundaries), so this keeps asking from just past the last pair until FDB says the range is
   * done or `cap` pairs are in hand.
   */
  async #read(tn: FdbTransaction, lo: Buffer, hi: Buffer, cap: number | undefined, reverse: boolean): Promise<Array<readonly [Buffer, Buffer]>> {
    let from = firstGreaterOrEqual(lo);
    let to = firstGreaterOrEqual(hi);
    const rows: Array<readonly [Buffer, Buffer]> = [];
    for (let iteration = 1; ; iteration++) {
      const remaining = cap === undefined ? 0 : cap - rows.length;
      const rowLimit = remaining > INT32_MAX ? 0 : remaining; // 0: no row limit
      const batch = await tn.getRangeNative(from, to, rowLimit, 0, this.#binding.StreamingMode.WantAll, iteration, reverse);
      rows.push(...batch.results);
      const last = batch.results.at(-1);
      // FDB never reports `more` with an empty batch; stopping there guards against looping forever.
      if (!batch.more || last === undefined) return rows;
      if (cap !== undefined && rows.length >= cap) return rows;
      if (reverse) to = firstGreaterOrEqual(last[0]);
      else from = firstGreaterThan(last[0]);
    }
  }

  set(key: Uint8Array, value: Uint8Array): void {
    checkKey(key);
    checkValue(value);
    const tn = this.#live();
    try {
      tn.set(toBuffer(key), toBuffer(value));
    } catch (err) {
      throw mapFdbError(err);
    }
  }

  clear(key: Uint8Array): void {
    checkKey(key);
    const tn = this.#live();
    try {
      tn.clear(toBuffer(key));
    } catch (err) {
      throw mapFdbError(err);
    }
  }

  clearRange(begin: Uint8Array, end: Uint8Array): void {
    checkRangeBound(begin);
    checkRangeBound(end);
    if (compareKeys(begin, end) > 0) throw kvError('ERR_KV_INVERTED_RANGE', 'clearRange: begin is after end');
    const tn = this.#live();
    try {
      tn.clearRange(toBuffer(begin), toBuffer(end));
    } catch (err) {
      throw mapFdbError(err);
    }
  }

  add(key: Uint8Array, param: Uint8Array): void {
    checkKey(key);
    checkValue(param);
    const tn = this.#live();
    try {
      // FDB's ADD is the contract's add: little-endian, param's length, missing value counts as zero.
      tn.atomicOpNative(this.#binding.MutationType.Add, toBuffer(key), toBuffer(param));
    } catch (err) {
      throw mapFdbError(err);
    }
  }

  async commit(): Promise<void> {
    const tn = this.#live();
    // Finished from here on, whatever the outcome: a failed attempt is replaced, never reused.
    this.#state = 'finished';
    let commit: Promise<void>;
    try {
      commit = tn.rawCommit();
    } catch (err) {
      throw mapFdbError(err);
    }
    this.#trackCommit(commit);
    try {
      await commit;
    } catch (err) {
      throw mapFdbError(err);
    }
  }

  cancel(): void {
    if (this.#state !== 'open') return;
    this.#state = 'finished';
    // Pending reads then reject with transaction_cancelled (1025), i.e. ERR_KV_TRANSACTION_CLOSED.
    this.#tn?.rawCancel();
  }
}

class FdbEngine implements Engine {
  readonly name = 'foundationdb' as const;
  readonly #binding: FdbBinding;
  readonly #db: FdbDatabase;
  readonly #commits = new Set<Promise<void>>();
  #closed = false;

  constructor(binding: FdbBinding, db: FdbDatabase) {
    this.#binding = binding;
    this.#db = db;
  }

  createTransaction(deadline: number | undefined): EngineTransaction {
    if (this.#closed) throw new StrataError('ERR_KV_DATABASE_CLOSED', 'the FoundationDB engine is closed');
    return new FdbEngineTransaction(this.#binding, this.#db, deadline, commit => this.#track(commit));
  }

  /** Remember a commit until it settles, so close() can wait for it. */
  #track(commit: Promise<void>): void {
    const settled = commit.then(
      () => undefined,
      () => undefined,
    );
    this.#commits.add(settled);
    void settled.then(() => this.#commits.delete(settled));
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    // In-flight commits finish first: their callers are owed an answer, not a cancellation.
    await Promise.all(this.#commits);
    try {
      this.#db.close();
    } catch (err) {
      throw mapFdbError(err);
    }
    // FDB's network thread is left running: the C API allows it to be started once per process and
    // never restarted after fdb_stop_network, so stopping it here would make every later open in this
    // process fail. node-foundationdb stops it itself at process exit (lib/index.ts).
  }
}

/**
 * Build the engine over an already-loaded binding. Exposed so the adapter's logic (argument checks,
 * the transaction's state, batching and `more`) can be tested against a stand-in for FDB; servers use
 * {@link openFdbEngine}.
 */
export function createFdbEngine(binding: FdbBinding, clusterFile: string): Engine {
  if (typeof clusterFile !== 'string' || clusterFile === '') throw new TypeError('clusterFile must be a non-empty path');
  let db: FdbDatabase;
  try {
    db = binding.open(clusterFile);
  } catch (err) {
    throw mapFdbError(err);
  }
  return new FdbEngine(binding, db);
}

/**
 * Open the FoundationDB engine on the cluster named by `clusterFile` (API version 720).
 *
 * Loads the optional `foundationdb` package on first use; on a machine without it (or without
 * libfdb_c) this rejects with `ERR_KV_ENGINE_UNAVAILABLE`, whose message says what to install.
 * Opening does not contact the cluster: an unreachable cluster shows up as operations that wait
 * (bounded by a transaction's `timeoutMs`).
 *
 * @example
 * const db = new KvDatabase(await openFdbEngine('/etc/foundationdb/fdb.cluster'));
 */
export async function openFdbEngine(clusterFile: string): Promise<Engine> {
  const binding = await loadFdb();
  return createFdbEngine(binding, clusterFile);
}
