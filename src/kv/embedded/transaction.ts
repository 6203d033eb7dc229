import type { Database as LmdbDatabase, RootDatabase, Transaction as LmdbReadTxn } from 'lmdb';
import { copyBytes } from '../keys.js';
import { StrataError } from '../../errors.js';
import { LIMITS } from '../limits.js';
import { kvError } from '../kv-errors.js';
import type { EngineTransaction, KeyValue, RangeOptions, RangeResult, ReadOptions } from '../types.js';
import { checkKey, checkLimit, checkRangeBound, checkValue, compareKeys } from '../validate.js';
import type { Committer } from './committer.js';
import { decodeVersion, inStoredRange, lmdbRange, storedKey, toKstr, userKey, VERSION_KEY } from './stored-keys.js';
import { applyAdds, WriteBuffer } from './write-buffer.js';

/** What every transaction of one embedded engine shares. */
export interface EmbeddedContext {
  readonly env: RootDatabase<Buffer, Buffer>;
  readonly data: LmdbDatabase<Buffer, Buffer>;
  readonly meta: LmdbDatabase<Buffer, Buffer>;
  readonly committer: Committer;
  readonly windowMs: number;
  readonly now: () => number;
  /** The version a transaction with no reads commits at. */
  latestVersion(): number;
  /** True once the engine is closed: every transaction then fails with ERR_KV_DATABASE_CLOSED. */
  isClosed(): boolean;
  /** Transactions not yet finished, so close() can release their snapshots. */
  readonly live: Set<EmbeddedTransaction>;
}

type State = 'open' | 'committing' | 'done';

/**
 * A transaction of the embedded engine: reads from one LMDB snapshot (taken at the first read, as
 * FoundationDB takes its read version), merged with this transaction's own buffered writes;
 * non-snapshot reads recorded as conflict ranges; writes applied by the committer.
 */
export class EmbeddedTransaction implements EngineTransaction {
  readonly #ctx: EmbeddedContext;
  readonly #deadline: number | undefined;
  #state: State = 'open';
  #snapshot: LmdbReadTxn | null = null;
  #readVersion = 0;
  #readAt = 0;
  readonly #writes = new WriteBuffer();
  /** Stored keys read, kept as bytes: only a transaction that writes ever needs them as strings. */
  readonly #readPoints: Buffer[] = [];
  readonly #readRanges: Array<[Buffer, Buffer]> = [];
  #size = 0;
  /**
   * Set once the transaction has failed for good (too old, timed out): like FoundationDB's, it
   * then refuses every operation and its commit, so a caller that catches the error cannot go on
   * with a read set that was never checked.
   */
  #failure: StrataError | null = null;
  #timer: NodeJS.Timeout | null = null;

  constructor(ctx: EmbeddedContext, deadline: number | undefined) {
    this.#ctx = ctx;
    this.#deadline = deadline;
    ctx.live.add(this);
    if (deadline !== undefined) {
      // Release the snapshot at the deadline even if the caller is busy elsewhere, as FDB's timeout does.
      this.#timer = setTimeout(() => this.#fail(timedOut()), Math.max(0, deadline - ctx.now()));
      this.#timer.unref();
    }
  }

  async get(key: Uint8Array, options: ReadOptions = {}): Promise<Uint8Array | undefined> {
    checkKey(key);
    this.#checkUsable();
    const stored = storedKey(key);
    if (!this.#writes.isEmpty) {
      const local = this.#writes.lookup(toKstr(stored));
      if (local.kind === 'known') return (local.value === undefined ? undefined : copyBytes(local.value));
      if (local.kind === 'adds') return applyAdds(this.#readStored(stored, options), local.params);
    }
    return this.#readStored(stored, options);
  }

  async getRange(begin: Uint8Array, end: Uint8Array, options: RangeOptions = {}): Promise<RangeResult> {
    checkRangeBound(begin);
    checkRangeBound(end);
    checkLimit(options.limit);
    this.#checkUsable();
    if (compareKeys(begin, end) >= 0) return { kvs: [], more: false };
    const snapshot = this.#takeSnapshot();
    const sb = storedKey(begin);
    const se = storedKey(end);
    const limit = options.limit ?? Number.POSITIVE_INFINITY;
    const reverse = options.reverse === true;
    const rows = this.#writes.isEmpty
      ? this.#scan(snapshot, sb, se, reverse, limit + 1)
      : this.#mergedScan(snapshot, sb, se, reverse, limit + 1);
    // The row past the limit is what makes `more` true, so it is read (and conflicts) too.
    const peek = rows.length > limit ? rows[limit] : undefined;
    if (peek !== undefined) rows.length = limit;
    if (options.snapshot !== true) {
      if (peek === undefined) this.#readRanges.push([sb, se]);
      else if (reverse) this.#readRanges.push([peek[0], se]);
      else this.#readRanges.push([sb, Buffer.concat([peek[0], ZERO])]);
    }
    const more = peek !== undefined;
    return { kvs: rows.map(([k, value]) => ({ key: userKey(k), value }) satisfies KeyValue), more };
  }

  set(key: Uint8Array, value: Uint8Array): void {
    checkKey(key);
    checkValue(value);
    this.#checkWritable(key.length + value.length);
    this.#writes.set(toKstr(storedKey(key)), copyBytes(value));
  }

  clear(key: Uint8Array): void {
    checkKey(key);
    this.#checkWritable(key.length);
    this.#writes.clear(toKstr(storedKey(key)));
  }

  clearRange(begin: Uint8Array, end: Uint8Array): void {
    checkRangeBound(begin);
    checkRangeBound(end);
    if (compareKeys(begin, end) > 0) throw kvError('ERR_KV_INVERTED_RANGE', 'clearRange: begin is after end');
    this.#checkWritable(begin.length + end.length);
    this.#writes.clearRange(toKstr(storedKey(begin)), toKstr(storedKey(end)));
  }

  add(key: Uint8Array, param: Uint8Array): void {
    checkKey(key);
    checkValue(param);
    this.#checkWritable(key.length + param.length);
    this.#writes.add(toKstr(storedKey(key)), copyBytes(param));
  }

  async commit(): Promise<void> {
    this.#checkUsable();
    this.#state = 'committing';
    try {
      if (this.#writes.isEmpty) return; // read-only: a snapshot is already serializable
      const hadSnapshot = this.#readAt !== 0;
      if (hadSnapshot) this.#checkAge();
      const readVersion = hadSnapshot ? this.#readVersion : this.#ctx.latestVersion();
      const reads = {
        points: this.#readPoints.map(toKstr),
        ranges: this.#readRanges.map(([b, e]) => [toKstr(b), toKstr(e)] as const),
      };
      this.#release(); // the snapshot is not needed while the batch is written
      await this.#ctx.committer.commit({ readVersion, reads, writes: this.#writes });
    } finally {
      this.#finish();
    }
  }

  cancel(): void {
    this.#finish();
  }

  #readStored(stored: Buffer, options: ReadOptions): Uint8Array | undefined {
    const snapshot = this.#takeSnapshot();
    if (options.snapshot !== true) this.#readPoints.push(stored);
    return this.#ctx.data.get(stored, { transaction: snapshot });
  }

  /** Rows of the snapshot alone, as [stored key, value]. */
  #scan(snapshot: LmdbReadTxn, sb: Buffer, se: Buffer, reverse: boolean, want: number): Array<[Buffer, Buffer]> {
    const rows: Array<[Buffer, Buffer]> = [];
    for (const { key, value } of this.#iterate(snapshot, sb, se, reverse)) {
      rows.push([key, value]);
      if (rows.length >= want) break;
    }
    return rows;
  }

  /** Rows of the snapshot overlaid with this transaction's writes. */
  #mergedScan(snapshot: LmdbReadTxn, sb: Buffer, se: Buffer, reverse: boolean, want: number): Array<[Buffer, Buffer]> {
    const local = this.#writes.keysIn(toKstr(sb), toKstr(se));
    if (reverse) local.reverse();
    const it = this.#iterate(snapshot, sb, se, reverse)[Symbol.iterator]();
    try {
      return this.#merge(it, local, reverse, want);
    } finally {
      // Stopping early must close the cursor: an open one pins the snapshot's LMDB reader slot.
      it.return?.();
    }
  }

  /** Merge snapshot rows with the locally written keys (both in scan order) into `want` rows at most. */
  #merge(it: Iterator<{ key: Buffer; value: Buffer }>, local: readonly string[], reverse: boolean, want: number): Array<[Buffer, Buffer]> {
    const writes = this.#writes;
    const before = (a: string, b: string): boolean => (reverse ? a > b : a < b);
    const rows: Array<[Buffer, Buffer]> = [];
    let snap = it.next();
    let li = 0;
    while (rows.length < want) {
      const s = snap.done === true ? undefined : snap.value;
      const sk = s === undefined ? undefined : toKstr(s.key);
      const lk = local[li];
      if (sk === undefined && lk === undefined) break;
      if (lk !== undefined && (sk === undefined || !before(sk, lk))) {
        const base = sk === lk ? s?.value : undefined;
        if (sk === lk) snap = it.next();
        li++;
        const w = writes.points.get(lk);
        if (w === undefined || w.kind === 'clear') continue;
        const value = w.kind === 'set' ? copyBytes(w.value) : applyAdds(base, w.params);
        rows.push([Buffer.from(lk, 'latin1'), Buffer.from(value.buffer, value.byteOffset, value.byteLength)]);
      } else if (s !== undefined && sk !== undefined) {
        snap = it.next();
        if (!writes.isCleared(sk)) rows.push([s.key, s.value]);
      }
    }
    return rows;
  }

  /** The snapshot's entries in [sb, se). */
  #iterate(snapshot: LmdbReadTxn, sb: Buffer, se: Buffer, reverse: boolean): Iterable<{ key: Buffer; value: Buffer }> {
    const { options, exact } = lmdbRange(sb, se, reverse);
    const rows = this.#ctx.data.getRange({ ...options, transaction: snapshot });
    return exact ? rows : rows.filter(({ key }) => inStoredRange(key, sb, se));
  }

  #takeSnapshot(): LmdbReadTxn {
    if (this.#snapshot === null) {
      const snapshot = this.#ctx.env.useReadTransaction();
      this.#snapshot = snapshot;
      this.#readVersion = decodeVersion(this.#ctx.meta.get(VERSION_KEY, { transaction: snapshot }));
      this.#readAt = this.#ctx.now();
      return snapshot;
    }
    this.#checkAge();
    return this.#snapshot;
  }

  #checkAge(): void {
    if (this.#ctx.now() - this.#readAt > this.#ctx.windowMs) {
      throw this.#fail(kvError('ERR_KV_TRANSACTION_TOO_OLD', `the transaction is older than the ${this.#ctx.windowMs} ms MVCC window`));
    }
  }

  #checkUsable(): void {
    if (this.#ctx.isClosed()) throw new StrataError('ERR_KV_DATABASE_CLOSED', 'the database is closed');
    if (this.#failure !== null) throw this.#failure;
    if (this.#state !== 'open') throw kvError('ERR_KV_TRANSACTION_CLOSED', 'the transaction has already committed or been cancelled');
    if (this.#deadline !== undefined && this.#ctx.now() >= this.#deadline) throw this.#fail(timedOut());
  }

  /** Fail for good: release the snapshot and refuse everything from now on. */
  #fail(err: StrataError): StrataError {
    this.#failure ??= err;
    this.#release();
    return this.#failure;
  }

  #finish(): void {
    this.#release();
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = null;
    this.#state = 'done';
    this.#ctx.live.delete(this);
  }

  #checkWritable(bytes: number): void {
    this.#checkUsable();
    if (this.#size + bytes > LIMITS.transactionSize) {
      throw kvError('ERR_KV_TRANSACTION_TOO_LARGE', `the transaction would write more than ${LIMITS.transactionSize} bytes`, {
        limit: LIMITS.transactionSize,
      });
    }
    this.#size += bytes;
  }

  #release(): void {
    const snapshot = this.#snapshot;
    this.#snapshot = null;
    try {
      snapshot?.done();
    } catch {
      // Already released by LMDB (the environment closed): nothing left to free.
    }
  }
}

const ZERO = Buffer.from([0]);

function timedOut(): StrataError {
  return kvError('ERR_KV_TRANSACTION_TIMED_OUT', 'the transaction timed out');
}
