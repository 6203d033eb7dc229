import { activeStrictMode, checkLimit } from './strict-mode.js';
import type { Transaction } from '../../src/kv/types.js';
import { keyAfter } from '../../src/kv/keys.js';
import { pages } from '../../src/kv/pages.js';
import { unpack } from '../../src/kv/tuple.js';
import { decodeRecord } from './codec.js';
import { requireCollection, saveCollection, type Collection } from './collections.js';
import { indexValues } from './index-entries.js';
import { notePendingVector } from './store.js';
import type { IndexSchema } from './index-schema.js';
import { parsePayloadPath } from './payload-path.js';
import { fail } from './validate.js';

/**
 * Creating and dropping payload indexes. The planner trusts an index only once it holds every
 * stored point: built in one transaction ({@link createPayloadIndex}) or, for collections too large
 * for one, over many while marked as building ({@link buildPayloadIndex}).
 */

const CHUNK = 1000;
/** The longest indexed field name: with the value and id, an entry must fit in one key. */
export const MAX_FIELD_NAME_BYTES = 512;

/** Create (or replace) the index on `field` in one transaction, indexing the points already stored. */
export async function createPayloadIndex(tx: Transaction, c: Collection, field: string, schema: IndexSchema): Promise<Collection> {
  let next = beginPayloadIndex(tx, c, field, schema);
  let after: Uint8Array | undefined;
  do after = await indexChunk(tx, next, field, schema, after);
  while (after !== undefined);
  next = { ...next, indexes: { ...next.indexes, [field]: schema } };
  saveCollection(tx, next);
  return next;
}

/** Runs `fn` in a transaction of its own (the caller's: with its tenant and rights). */
export type Runner = <T>(fn: (tx: Transaction) => Promise<T>) => Promise<T>;

/**
 * Create (or replace) the index on `field` of collection `name` over as many transactions as the
 * stored points need, so a large collection can be indexed: first the index is declared (writes
 * maintain it from then on, the planner ignores it), then points are indexed a chunk per
 * transaction, then it is marked complete. If the index is dropped or replaced meanwhile, the
 * build stops. If the process dies midway the index stays unused until created again.
 */
export async function buildPayloadIndex(run: Runner, name: string, field: string, schema: IndexSchema): Promise<void> {
  const building: IndexSchema = { ...schema, building: true };
  await run(async tx => {
    beginPayloadIndex(tx, await requireCollection(tx, name), field, building);
  });
  let after: Uint8Array | undefined;
  for (;;) {
    const done = await run(async tx => {
      const c = await requireCollection(tx, name);
      if (JSON.stringify(c.indexes[field]) !== JSON.stringify(building)) return true; // dropped or replaced
      after = await indexChunk(tx, c, field, schema, after);
      if (after !== undefined) return false;
      saveCollection(tx, { ...c, indexes: { ...c.indexes, [field]: schema } });
      return true;
    });
    if (done) return;
  }
}

/** Declare the index (clearing any entries of a previous one); returns the collection with it. */
function beginPayloadIndex(tx: Transaction, c: Collection, field: string, schema: IndexSchema): Collection {
  if (field === '' || Buffer.byteLength(field) > MAX_FIELD_NAME_BYTES) fail('ERR_INDEX_INVALID', 'field_name', `must be 1 to ${MAX_FIELD_NAME_BYTES} bytes`);
  parsePayloadPath(field); // refuses malformed paths
  const strict = activeStrictMode(c.config.strict);
  if (!Object.hasOwn(c.indexes, field)) checkLimit(Object.keys(c.indexes).length + 1, strict?.max_payload_index_count, 'max_payload_index_count');
  if (c.indexes[field] !== undefined) tx.clearRange(...rangeOf(c, field));
  const next: Collection = { ...c, indexes: { ...c.indexes, [field]: schema } };
  saveCollection(tx, next);
  return next;
}

/** Index up to CHUNK stored points after `after`; where to go on, or undefined at the end. */
async function indexChunk(tx: Transaction, c: Collection, field: string, schema: IndexSchema, after: Uint8Array | undefined): Promise<Uint8Array | undefined> {
  const { begin, end } = c.keys.points.range();
  const prefixLength = c.keys.points.prefix.length;
  const { kvs, more } = await tx.getRange(after ?? begin, end, { limit: CHUNK });
  for (const { key, value } of kvs) {
    const idItem = unpack(key.subarray(prefixLength))[0];
    if (idItem === undefined) continue;
    for (const v of indexValues(schema, field, decodeRecord(value).payload)) tx.set(c.keys.index.pack([field, v, idItem]), new Uint8Array(0));
    // A new tenant field partitions the graphs: every stored point must be linked into its partition.
    if (schema.is_tenant === true && (c.config.hnsw.payload_m ?? 0) > 0) {
      for (const name of Object.keys(c.config.vectors)) notePendingVector(tx, c, name, idItem);
    }
  }
  const last = kvs[kvs.length - 1];
  return more && last !== undefined ? keyAfter(last.key) : undefined;
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
  for await (const page of pages(tx, begin, end, { limit: 10_000, snapshot: true })) {
    n += page.length;
    if (n >= cap) break;
  }
  return n;
}

function rangeOf(c: Collection, field: string): [Uint8Array, Uint8Array] {
  const { begin, end } = c.keys.index.range([field]);
  return [begin, end];
}
