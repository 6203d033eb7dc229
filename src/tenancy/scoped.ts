import { concatBytes, hasPrefix } from '../kv/keys.js';
import type { KeyValue, RangeOptions, RangeResult, ReadOptions, Transaction } from '../kv/types.js';
import { checkKey, checkRangeBound } from '../kv/validate.js';
import { TENANT_KEY_SIZE_LIMIT } from './layout.js';

/**
 * A transaction confined to one tenant's keyspace. Every key the caller names is validated as a
 * key of the tenant's own legal keyspace [``, `\xff`) and then put behind the tenant's prefix, so
 * whatever bytes arrive, every key and range reaching the engine lies within
 * [prefix, prefix + `\xff`]: nothing outside the tenant can be read, written or cleared.
 * Keys coming back have the prefix removed; the tenant never sees it.
 */
export class TenantTransaction implements Transaction {
  readonly #tx: Transaction;
  readonly #prefix: Uint8Array;
  readonly #onWrite: (() => void) | undefined;
  /** Where this transaction's keys live in the store, as a string (see {@link keyspaceOf}). */
  readonly keyspace: string;

  /**
   * `onWrite`, when given, runs before every write and may throw to refuse it: how a read-only
   * token's transaction refuses writes whatever the caller tries.
   */
  constructor(tx: Transaction, prefix: Uint8Array, onWrite?: () => void) {
    this.#tx = tx;
    this.#prefix = Uint8Array.from(prefix);
    this.#onWrite = onWrite;
    this.keyspace = keyspaceOf(tx) + Buffer.from(prefix).toString('latin1');
  }

  get(key: Uint8Array, options?: ReadOptions): Promise<Uint8Array | undefined> {
    try {
      return this.#tx.get(this.#key(key), options);
    } catch (err) {
      return Promise.reject(err);
    }
  }

  async getRange(begin: Uint8Array, end: Uint8Array, options?: RangeOptions): Promise<RangeResult> {
    const { kvs, more } = await this.#tx.getRange(this.#bound(begin), this.#bound(end), options);
    const n = this.#prefix.length;
    return {
      kvs: kvs.map(({ key, value }): KeyValue => {
        // Cannot happen while the bounds are prefixed; checked so a bug fails loudly, not leaks.
        if (!hasPrefix(key, this.#prefix)) throw new Error('tenant range read returned a key outside the tenant');
        return { key: key.subarray(n), value };
      }),
      more,
    };
  }

  set(key: Uint8Array, value: Uint8Array): void {
    this.#onWrite?.();
    this.#tx.set(this.#key(key), value);
  }

  clear(key: Uint8Array): void {
    this.#onWrite?.();
    this.#tx.clear(this.#key(key));
  }

  clearRange(begin: Uint8Array, end: Uint8Array): void {
    this.#onWrite?.();
    this.#tx.clearRange(this.#bound(begin), this.#bound(end));
  }

  add(key: Uint8Array, param: Uint8Array): void {
    this.#onWrite?.();
    this.#tx.add(this.#key(key), param);
  }

  #key(key: Uint8Array): Uint8Array {
    checkKey(key, TENANT_KEY_SIZE_LIMIT);
    return concatBytes(this.#prefix, key);
  }

  #bound(key: Uint8Array): Uint8Array {
    checkRangeBound(key, TENANT_KEY_SIZE_LIMIT);
    return concatBytes(this.#prefix, key);
  }
}

/**
 * Which keyspace `tx`'s keys are relative to: the tenant prefixes it is confined by, as a string
 * ('' for the whole store). A cache of anything read through a transaction must be keyed by it as
 * well as by the key: the same key names different data in different tenants.
 */
export function keyspaceOf(tx: Transaction): string {
  return tx instanceof TenantTransaction ? tx.keyspace : '';
}
