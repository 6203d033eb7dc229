import type { Database as LmdbDatabase, RootDatabase } from 'lmdb';
import { StrataError } from '../../errors.js';
import { kvError } from '../kv-errors.js';
import { WriteSet, type ReadSet } from './conflicts.js';
import { encodeVersion, fromKstr, inStoredRange, lmdbRange, VERSION_KEY } from './stored-keys.js';
import { applyAdds, type WriteBuffer } from './write-buffer.js';

/** One transaction asking to commit. */
export interface CommitRequest {
  readonly readVersion: number;
  readonly reads: ReadSet;
  readonly writes: WriteBuffer;
}

/** A request waiting in a batch, with how to answer it. */
interface Waiter {
  readonly request: CommitRequest;
  resolve(): void;
  reject(err: unknown): void;
}

interface Batch {
  readonly version: number;
  readonly writeSet: WriteSet;
  readonly waiters: Waiter[];
  /** When the batch became durable (ms); undefined while it is pending or in flight. */
  durableAt: number | undefined;
}

/**
 * Resolves commits against recent writes and writes them durably in groups.
 *
 * Resolution is FoundationDB's: a transaction that read (without `snapshot`) anything a batch with
 * a newer version wrote is refused with a retryable conflict. Accepted transactions join the
 * pending batch at once, so transactions later in the same batch conflict with earlier ones.
 *
 * Group commit: while one batch is being written, every accepted transaction joins the next one;
 * each batch is a single durable LMDB write transaction, and every commit in it is acknowledged
 * only when LMDB reports it synced (the environment runs without `overlappingSync`, so a commit is
 * visible only once durable).
 */
export class Committer {
  readonly #data: LmdbDatabase<Buffer, Buffer>;
  readonly #meta: LmdbDatabase<Buffer, Buffer>;
  readonly #env: RootDatabase<Buffer, Buffer>;
  readonly #windowMs: number;
  readonly #now: () => number;
  /** Batches that may still conflict with a live transaction, oldest first. */
  #history: Batch[] = [];
  /** Transactions that read below this version can no longer be checked. */
  #horizon = 0;
  #lastVersion: number;
  #pending: Batch | null = null;
  #writing: Promise<void> | null = null;
  #scheduled = false;
  #closed = false;

  constructor(options: {
    env: RootDatabase<Buffer, Buffer>;
    data: LmdbDatabase<Buffer, Buffer>;
    meta: LmdbDatabase<Buffer, Buffer>;
    lastVersion: number;
    windowMs: number;
    now: () => number;
  }) {
    this.#env = options.env;
    this.#data = options.data;
    this.#meta = options.meta;
    this.#lastVersion = options.lastVersion;
    this.#horizon = options.lastVersion;
    this.#windowMs = options.windowMs;
    this.#now = options.now;
  }

  /** Resolve `request` and, if it does not conflict, wait until its batch is durable. */
  commit(request: CommitRequest): Promise<void> {
    if (this.#closed) return Promise.reject(new StrataError('ERR_KV_DATABASE_CLOSED', 'the database is closed'));
    this.#prune();
    if (request.readVersion < this.#horizon) {
      return Promise.reject(kvError('ERR_KV_TRANSACTION_TOO_OLD', 'the transaction read data older than the MVCC window'));
    }
    for (let i = this.#history.length - 1; i >= 0; i--) {
      const batch = this.#history[i] as Batch;
      if (batch.version <= request.readVersion) break;
      if (batch.writeSet.intersects(request.reads)) {
        return Promise.reject(
          kvError('ERR_KV_NOT_COMMITTED', 'the transaction conflicted with a concurrent commit', { conflictingVersion: batch.version }),
        );
      }
    }
    const batch = (this.#pending ??= this.#newBatch());
    recordWrites(batch.writeSet, request.writes);
    const done = new Promise<void>((resolve, reject) => batch.waiters.push({ request, resolve, reject }));
    this.#schedule();
    return done;
  }

  /** The newest version handed to a batch: a transaction with no reads commits as of it. */
  get latestVersion(): number {
    return this.#lastVersion;
  }

  /** Refuse further commits and wait for every accepted one to be written. */
  async close(): Promise<void> {
    this.#closed = true;
    await this.#drain();
  }

  async #drain(): Promise<void> {
    while (this.#writing !== null || this.#pending !== null) {
      if (this.#writing === null) this.#flush();
      await this.#writing;
    }
  }

  #newBatch(): Batch {
    const batch: Batch = { version: ++this.#lastVersion, writeSet: new WriteSet(), waiters: [], durableAt: undefined };
    this.#history.push(batch);
    return batch;
  }

  #schedule(): void {
    if (this.#writing !== null || this.#scheduled) return;
    // Let every transaction that commits in this event turn join the first batch too.
    this.#scheduled = true;
    setImmediate(() => {
      this.#scheduled = false;
      if (this.#writing === null) this.#flush();
    });
  }

  #flush(): void {
    const batch = this.#pending;
    if (batch === null) return;
    this.#pending = null;
    this.#writing = this.#write(batch).finally(() => {
      this.#writing = null;
      if (this.#pending !== null) this.#flush();
    });
  }

  async #write(batch: Batch): Promise<void> {
    const failed = new Map<Waiter, unknown>();
    try {
      await this.#env.transaction(() => {
        for (const waiter of batch.waiters) {
          // Each request in a child transaction: one that fails part-way is rolled back alone
          // (lmdb-js would otherwise commit whatever a callback wrote before it threw).
          try {
            this.#env.childTransaction(() => this.#apply(waiter.request.writes));
          } catch (cause) {
            failed.set(waiter, cause);
          }
        }
        this.#meta.putSync(VERSION_KEY, encodeVersion(batch.version));
      });
    } catch (cause) {
      // The LMDB transaction itself failed: nothing of the batch was written.
      for (const waiter of batch.waiters) failed.set(waiter, cause);
    }
    batch.durableAt = this.#now();
    for (const waiter of batch.waiters) {
      if (!failed.has(waiter)) waiter.resolve();
      else {
        const cause = failed.get(waiter);
        waiter.reject(new StrataError('ERR_KV_ENGINE_FAILED', 'the embedded engine failed to write a commit; nothing of it was written', { cause }));
      }
    }
  }

  /** Apply one transaction's writes inside the LMDB write transaction. */
  #apply(writes: WriteBuffer): void {
    const data = this.#data;
    for (const [begin, end] of writes.cleared) {
      const sb = fromKstr(begin);
      const se = fromKstr(end);
      const { options, exact } = lmdbRange(sb, se, false);
      // Collected first: removing keys while a cursor walks them is not safe in LMDB.
      const doomed = [...data.getKeys(options)].filter(key => exact || inStoredRange(key, sb, se));
      for (const key of doomed) data.removeSync(key);
    }
    for (const [k, w] of writes.points) {
      const key = fromKstr(k);
      if (w.kind === 'set') data.putSync(key, Buffer.from(w.value.buffer, w.value.byteOffset, w.value.byteLength));
      else if (w.kind === 'clear') data.removeSync(key);
      else data.putSync(key, Buffer.from(applyAdds(data.get(key), w.params)));
    }
  }

  /** Forget batches no live transaction can conflict with (durable for longer than the window). */
  #prune(): void {
    const cutoff = this.#now() - this.#windowMs;
    let n = 0;
    for (const batch of this.#history) {
      if (batch.durableAt === undefined || batch.durableAt >= cutoff) break;
      this.#horizon = batch.version;
      n++;
    }
    if (n > 0) this.#history.splice(0, n);
  }
}

function recordWrites(set: WriteSet, writes: WriteBuffer): void {
  for (const k of writes.points.keys()) set.addPoint(k);
  for (const [b, e] of writes.cleared) set.addRange(b, e);
}
