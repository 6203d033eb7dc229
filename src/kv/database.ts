import { StrataError } from '../errors.js';
import { runTransaction } from './transact.js';
import type { Database, Engine, EngineName, SnapshotReader, TransactOptions, Transaction } from './types.js';

/** The `Database` every engine is served through: the shared retry loop over an engine. */
export class KvDatabase implements Database {
  readonly #engine: Engine;
  #closed = false;
  /** Present when the engine can hold one version past the MVCC window (see `Database`). */
  readonly openSnapshotReader?: () => SnapshotReader;
  /** Present when the engine can copy the whole store (see `Database`). */
  readonly backup?: (dir: string) => Promise<void>;

  constructor(engine: Engine) {
    this.#engine = engine;
    // Defined only when the engine has them, so callers can test for the capability.
    if (engine.openSnapshotReader !== undefined) {
      const open = engine.openSnapshotReader.bind(engine);
      this.openSnapshotReader = () => {
        this.#checkOpen();
        return open();
      };
    }
    if (engine.backup !== undefined) {
      const backup = engine.backup.bind(engine);
      this.backup = async dir => {
        this.#checkOpen();
        return backup(dir);
      };
    }
  }

  get engine(): EngineName {
    return this.#engine.name;
  }

  transact<T>(fn: (tx: Transaction) => Promise<T>, options?: TransactOptions): Promise<T> {
    if (this.#closed) return Promise.reject(new StrataError('ERR_KV_DATABASE_CLOSED', 'the database is closed'));
    return runTransaction(this.#engine, fn, options);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#engine.close();
  }

  #checkOpen(): void {
    if (this.#closed) throw new StrataError('ERR_KV_DATABASE_CLOSED', 'the database is closed');
  }
}
