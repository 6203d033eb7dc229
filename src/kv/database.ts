import { StrataError } from '../errors.js';
import { runTransaction } from './transact.js';
import type { Database, Engine, EngineName, TransactOptions, Transaction } from './types.js';

/** The `Database` every engine is served through: the shared retry loop over an engine. */
export class KvDatabase implements Database {
  readonly #engine: Engine;
  #closed = false;

  constructor(engine: Engine) {
    this.#engine = engine;
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
}
