import { existsSync } from 'node:fs';
import { mkdir, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { open as openLmdb, type Database as LmdbDatabase, type RootDatabase } from 'lmdb';
import { StrataError } from '../../errors.js';
import { LIMITS } from '../limits.js';
import type { Engine, EngineTransaction, SnapshotReader } from '../types.js';
import { Committer } from './committer.js';
import { lockDataDir, type DataDirLock } from './lock.js';
import { EmbeddedSnapshotReader } from './reader.js';
import { DATA_DB_NAME, decodeVersion, META_DB_NAME, VERSION_KEY } from './stored-keys.js';
import { EmbeddedTransaction, type EmbeddedContext } from './transaction.js';

/** Options of the embedded engine. */
export interface EmbeddedOptions {
  /** The directory holding the LMDB environment (created if missing). */
  readonly dataDir: string;
  /**
   * The MVCC window in ms (default 5000, FoundationDB's). Tests shorten it to reach
   * `ERR_KV_TRANSACTION_TOO_OLD` quickly.
   */
  readonly mvccWindowMs?: number;
  /** The clock, in ms. */
  readonly now?: () => number;
  /**
   * Create the store when the directory holds none (default true). Tools pass false so that a
   * mistyped path fails with `ERR_KV_STORE_NOT_FOUND` instead of silently opening an empty store.
   */
  readonly create?: boolean;
}

/** The file LMDB keeps its data in: its presence means the directory holds a store. */
const LMDB_DATA_FILE = 'data.mdb';

const LMDB_OPTIONS = {
  keyEncoding: 'binary',
  encoding: 'binary',
  // Visible only once durable: a read never sees a commit that a power loss could take back.
  overlappingSync: false,
  // Each open transaction pins a reader slot while its snapshot is live.
  maxReaders: 1024,
} as const;

/** Open the embedded engine on `options.dataDir`. */
export async function openEmbeddedEngine(options: EmbeddedOptions): Promise<Engine> {
  if (options.create === false && !existsSync(join(options.dataDir, LMDB_DATA_FILE))) {
    throw new StrataError('ERR_KV_STORE_NOT_FOUND', `no Strata store in ${options.dataDir}`, { details: { dir: options.dataDir } });
  }
  await mkdir(options.dataDir, { recursive: true });
  const lock = await lockDataDir(options.dataDir);
  try {
    const env = openLmdb<Buffer, Buffer>({ path: options.dataDir, ...LMDB_OPTIONS });
    const data = env.openDB<Buffer, Buffer>(DATA_DB_NAME, LMDB_OPTIONS);
    const meta = env.openDB<Buffer, Buffer>(META_DB_NAME, LMDB_OPTIONS);
    return new EmbeddedEngine(env, data, meta, lock, options);
  } catch (err) {
    await lock.release();
    throw err;
  }
}

class EmbeddedEngine implements Engine {
  readonly name = 'embedded';
  readonly #env: RootDatabase<Buffer, Buffer>;
  readonly #lock: DataDirLock;
  readonly #ctx: EmbeddedContext;
  readonly #committer: Committer;
  readonly #data: LmdbDatabase<Buffer, Buffer>;
  readonly #meta: LmdbDatabase<Buffer, Buffer>;
  /** Snapshot readers not yet closed, so close() can release their LMDB read transactions. */
  readonly #readers = new Set<EmbeddedSnapshotReader>();
  #closed = false;

  constructor(
    env: RootDatabase<Buffer, Buffer>,
    data: LmdbDatabase<Buffer, Buffer>,
    meta: LmdbDatabase<Buffer, Buffer>,
    lock: DataDirLock,
    options: EmbeddedOptions,
  ) {
    this.#env = env;
    this.#lock = lock;
    this.#data = data;
    this.#meta = meta;
    const now = options.now ?? Date.now;
    const windowMs = options.mvccWindowMs ?? LIMITS.mvccWindowMs;
    const committer = new Committer({ env, data, meta, lastVersion: decodeVersion(meta.get(VERSION_KEY)), windowMs, now });
    this.#committer = committer;
    this.#ctx = {
      env,
      data,
      meta,
      committer,
      windowMs,
      now,
      latestVersion: () => committer.latestVersion,
      isClosed: () => this.#closed,
      live: new Set(),
    };
  }

  createTransaction(deadline: number | undefined): EngineTransaction {
    if (this.#closed) throw new StrataError('ERR_KV_DATABASE_CLOSED', 'the database is closed');
    return new EmbeddedTransaction(this.#ctx, deadline);
  }

  openSnapshotReader(): SnapshotReader {
    if (this.#closed) throw new StrataError('ERR_KV_DATABASE_CLOSED', 'the database is closed');
    const reader = new EmbeddedSnapshotReader(this.#env, { data: this.#data, meta: this.#meta }, {
      isClosed: () => this.#closed,
      onClose: r => this.#readers.delete(r),
    });
    this.#readers.add(reader);
    return reader;
  }

  /**
   * LMDB's compacting copy (`mdb_env_copy2` with `MDB_CP_COMPACT`): it runs on its own read
   * transaction in a worker thread, so commits go on meanwhile, and the copy holds exactly one
   * version (data and version key together).
   */
  async backup(dir: string): Promise<void> {
    if (this.#closed) throw new StrataError('ERR_KV_DATABASE_CLOSED', 'the database is closed');
    await mkdir(dir, { recursive: true });
    if ((await readdir(dir)).length > 0) {
      throw new StrataError('ERR_BACKUP_OUTPUT_EXISTS', `the backup directory ${dir} is not empty`, { details: { dir } });
    }
    await this.#env.backup(dir, true);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#committer.close();
    // Transactions still open fail with ERR_KV_DATABASE_CLOSED from now on; free their snapshots
    // before the environment goes.
    for (const tx of [...this.#ctx.live]) tx.cancel();
    for (const reader of [...this.#readers]) reader.close();
    await this.#env.close();
    await this.#lock.release();
  }
}
