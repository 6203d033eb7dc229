import { keyAfter } from './keys.js';
import type { KeyValue, Transaction } from './types.js';

/**
 * The pairs of [begin, end) a page at a time: a range too large for one `getRange` is read in
 * pages of `limit`, each starting just after the last key of the one before.
 *
 * @example
 * for await (const page of pages(tx, begin, end, { limit: 1000 })) for (const { key } of page) …
 */
export async function* pages(tx: Transaction, begin: Uint8Array, end: Uint8Array, options: { limit: number; snapshot?: boolean }): AsyncGenerator<KeyValue[]> {
  let from = begin;
  for (;;) {
    const { kvs, more } = await tx.getRange(from, end, options.snapshot === true ? { limit: options.limit, snapshot: true } : { limit: options.limit });
    if (kvs.length > 0) yield kvs;
    const last = kvs[kvs.length - 1];
    if (!more || last === undefined) return;
    from = keyAfter(last.key);
  }
}
