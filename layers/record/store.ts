import { StrataError } from '../../src/errors.js';
import type { Transaction } from '../../src/kv/types.js';
import type { TupleItem } from '../../src/kv/tuple.js';
import { decodeRecord, encodeRecord, encodeVector, type PointRecord } from './codec.js';
import type { Collection, ShardKey } from './collections.js';
import { indexValues } from './index-entries.js';
import { pointIdItem } from './layout.js';
import type { PointId } from './point-id.js';

/**
 * Reading and writing one point: its record, its vectors, its payload index entries and the
 * collection's point count, always together in the caller's transaction.
 */

/** A point as stored. */
export interface StoredPoint {
  readonly id: PointId;
  readonly record: PointRecord;
}

/** The index field under which shard keys are indexed: null, which no payload field name can be. */
export const SHARD_KEY_FIELD = null;

const ONE = Buffer.from([1, 0, 0, 0, 0, 0, 0, 0]);
const EMPTY = new Uint8Array(0);

/** The record key of point `id`. */
export function recordKey(c: Collection, id: PointId): Uint8Array {
  return c.keys.points.pack([pointIdItem(id)]);
}

/** The point `id`'s record, or undefined. */
export async function readRecord(tx: Transaction, c: Collection, id: PointId): Promise<PointRecord | undefined> {
  const raw = await tx.get(recordKey(c, id));
  return raw === undefined ? undefined : decodeRecord(raw);
}

/** The index entry keys of a record. */
function entryKeys(c: Collection, idItem: TupleItem, record: PointRecord): Map<string, Uint8Array> {
  const keys = new Map<string, Uint8Array>();
  for (const [field, schema] of Object.entries(c.indexes)) {
    for (const value of indexValues(schema, field, record.payload)) {
      const key = c.keys.index.pack([field, value, idItem]);
      keys.set(Buffer.from(key).toString('latin1'), key);
    }
  }
  if (record.shardKey !== undefined) {
    const key = c.keys.index.pack([SHARD_KEY_FIELD, record.shardKey, idItem]);
    keys.set(Buffer.from(key).toString('latin1'), key);
  }
  return keys;
}

/**
 * Write point `id`'s record (`old` is what is stored now, read by the caller in this transaction),
 * keeping its index entries and the point count in step.
 */
export function writeRecord(tx: Transaction, c: Collection, id: PointId, old: PointRecord | undefined, next: PointRecord): void {
  const idItem = pointIdItem(id);
  const nextKeys = entryKeys(c, idItem, next);
  if (old !== undefined) {
    for (const [k, key] of entryKeys(c, idItem, old)) {
      if (nextKeys.has(k)) nextKeys.delete(k);
      else tx.clear(key);
    }
  } else {
    tx.add(c.keys.count, ONE);
  }
  for (const key of nextKeys.values()) tx.set(key, EMPTY);
  tx.set(c.keys.points.pack([idItem]), encodeRecord(next));
  if (old !== undefined && partitionMoved(c, old, next)) {
    for (const name of Object.keys(c.config.vectors)) notePendingVector(tx, c, name, idItem);
  }
}

/**
 * True when a payload change moves the point between partition graphs (an `is_tenant` field's
 * value or the shard key changed, in a collection with `payload_m`): the vector index must re-link
 * it, as if its vector had changed.
 */
export function partitionMoved(c: Collection, old: PointRecord, next: PointRecord): boolean {
  if ((c.config.hnsw.payload_m ?? 0) === 0) return false;
  if (JSON.stringify(old.shardKey) !== JSON.stringify(next.shardKey)) return true;
  for (const [field, schema] of Object.entries(c.indexes)) {
    if (schema.is_tenant === true && JSON.stringify(old.payload[field]) !== JSON.stringify(next.payload[field])) return true;
  }
  return false;
}

/** Set the point's vectors; with `replaceAll`, vectors of other names are removed. */
export function writeVectors(tx: Transaction, c: Collection, id: PointId, vectors: ReadonlyMap<string, Float32Array>, replaceAll: boolean): void {
  const idItem = pointIdItem(id);
  for (const name of Object.keys(c.config.vectors)) {
    const v = vectors.get(name);
    const key = c.keys.vectors(name).pack([idItem]);
    if (v !== undefined) tx.set(key, encodeVector(v));
    else if (replaceAll) tx.clear(key);
    if (v !== undefined || replaceAll) notePendingVector(tx, c, name, idItem);
  }
}

/** Log that point `idItem`'s vector `name` changed (or went), for the vector index to catch up. */
export function notePendingVector(tx: Transaction, c: Collection, name: string, idItem: TupleItem): void {
  tx.set(c.keys.pending(name).pack([idItem]), EMPTY);
  tx.set(c.keys.pendingFlag, EMPTY);
  tx.add(c.keys.vectorsVersion, ONE);
}

/** Remove points (with their stored records): records, vectors, index entries, and the count once. */
export function removePoints(tx: Transaction, c: Collection, points: readonly { readonly id: PointId; readonly record: PointRecord }[]): void {
  for (const { id, record } of points) {
    const idItem = pointIdItem(id);
    for (const key of entryKeys(c, idItem, record).values()) tx.clear(key);
    for (const name of Object.keys(c.config.vectors)) {
      tx.clear(c.keys.vectors(name).pack([idItem]));
      notePendingVector(tx, c, name, idItem);
    }
    tx.clear(c.keys.points.pack([idItem]));
  }
  if (points.length > 0) tx.add(c.keys.count, countDelta(-points.length));
}

/** A point-count change as an 8-byte little-endian add (two's complement for decreases). */
function countDelta(n: number): Uint8Array {
  const b = Buffer.alloc(8);
  b.writeBigInt64LE(BigInt(n));
  return b;
}

/** Check the shard key of a write against the collection's sharding. */
export function checkShardKey(c: Collection, shardKey: ShardKey | undefined): void {
  if (c.config.sharding === 'custom') {
    if (shardKey === undefined) throw new StrataError('ERR_SHARD_KEY_INVALID', 'Bad request: Shard key must be specified for a collection with custom sharding');
    if (!c.shardKeys.includes(shardKey)) throw new StrataError('ERR_SHARD_KEY_INVALID', `Bad request: Shard key ${JSON.stringify(shardKey)} does not exist`);
  } else if (shardKey !== undefined) {
    throw new StrataError('ERR_SHARD_KEY_INVALID', 'Bad request: Shard key specified, but the collection does not use custom sharding');
  }
}
