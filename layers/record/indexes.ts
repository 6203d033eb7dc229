import type { Transaction } from '../../src/kv/types.js';
import { keyAfter } from '../../src/kv/keys.js';
import { unpack } from '../../src/kv/tuple.js';
import { decodeRecord } from './codec.js';
import { saveCollection, type Collection } from './collections.js';
import { indexValues } from './index-entries.js';
import type { IndexSchema } from './index-schema.js';
import { parsePayloadPath } from './payload-path.js';
import { fail } from './validate.js';

/**
 * Creating and dropping payload indexes. An index is built in the transaction that creates it, from
 * every stored point, so it is complete the moment it exists and the planner may trust it; that
 * bounds the collection size at which an index can be added afterwards by one transaction's limits
 * (about 5 seconds and 10 MB of writes): create indexes before loading large collections, as
 * Qdrant's documentation also advises.
 */

const CHUNK = 1000;
/** The longest indexed field name: with the value and id, an entry must fit in one key. */
export const MAX_FIELD_NAME_BYTES = 512;

/** Create (or replace) the index on `field`, indexing the points already stored. */
export async function createPayloadIndex(tx: Transaction, c: Collection, field: string, schema: IndexSchema): Promise<Collection> {
  if (field === '' || Buffer.byteLength(field) > MAX_FIELD_NAME_BYTES) fail('ERR_INDEX_INVALID', 'field_name', `must be 1 to ${MAX_FIELD_NAME_BYTES} bytes`);
  parsePayloadPath(field); // refuses malformed paths
  if (c.indexes[field] !== undefined) tx.clearRange(...rangeOf(c, field));
  const { begin, end } = c.keys.points.range();
  const prefixLength = c.keys.points.prefix.length;
  let from = begin;
  for (;;) {
    const { kvs, more } = await tx.getRange(from, end, { limit: CHUNK });
    for (const { key, value } of kvs) {
      const idItem = unpack(key.subarray(prefixLength))[0];
      if (idItem === undefined) continue;
      for (const v of indexValues(schema, field, decodeRecord(value).payload)) tx.set(c.keys.index.pack([field, v, idItem]), new Uint8Array(0));
    }
    const last = kvs[kvs.length - 1];
    if (!more || last === undefined) break;
    from = keyAfter(last.key);
  }
  const next: Collection = { ...c, indexes: { ...c.indexes, [field]: schema } };
  saveCollection(tx, next);
  return next;
}

/** Drop the index on `field` (nothing happens when there is none). */
export function deletePayloadIndex(tx: Transaction, c: Collection, field: string): Collection {
  if (c.indexes[field] === undefined) return c;
  tx.clearRange(...rangeOf(c, field));
  const indexes = { ...c.indexes };
  delete indexes[field];
  const next: Collection = { ...c, indexes };
  saveCollection(tx, next);
  return next;
}

/** How many entries the index on `field` holds (for `payload_schema`'s `points`), up to `cap`. */
export async function indexEntryCount(tx: Transaction, c: Collection, field: string, cap = 1_000_000): Promise<number> {
  const [begin, end] = rangeOf(c, field);
  let n = 0;
  let from = begin;
  for (;;) {
    const { kvs, more } = await tx.getRange(from, end, { limit: 10_000, snapshot: true });
    n += kvs.length;
    const last = kvs[kvs.length - 1];
    if (!more || last === undefined || n >= cap) return n;
    from = keyAfter(last.key);
  }
}

function rangeOf(c: Collection, field: string): [Uint8Array, Uint8Array] {
  const { begin, end } = c.keys.index.range([field]);
  return [begin, end];
}
