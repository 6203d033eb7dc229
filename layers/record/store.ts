import { StrataError } from '../../src/errors.js';
import type { Transaction } from '../../src/kv/types.js';
import type { TupleItem } from '../../src/kv/tuple.js';
import { decodeRecord, encodeRecord, encodeVector, storedSize, type PointRecord } from './codec.js';
import type { Collection, ShardKey } from './collections.js';
import { indexValues } from './index-entries.js';
import { pointIdItem } from './layout.js';
import type { PointId } from './point-id.js';
import { applyUsage, type UsageDelta } from './usage.js';

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
 * keeping its index entries in step; what it changes in usage goes into `usage`, for the caller to
 * apply once.
 */
export function writeRecord(tx: Transaction, c: Collection, id: PointId, old: PointRecord | undefined, next: PointRecord, usage: UsageDelta): void {
  const idItem = pointIdItem(id);
  const nextKeys = entryKeys(c, idItem, next);
  if (old !== undefined) {
    for (const [k, key] of entryKeys(c, idItem, old)) {
      if (nextKeys.has(k)) nextKeys.delete(k);
      else tx.clear(key);
    }
  } else {
    usage.points++;
  }
  for (const key of nextKeys.values()) tx.set(key, EMPTY);
  const bytes = encodeRecord(next);
  usage.payloadBytes += bytes.length - (old === undefined ? 0 : storedSize(old));
  tx.set(c.keys.points.pack([idItem]), bytes);
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

/**
 * Set the point's vectors; with `replaceAll`, vectors of other names are removed. `existed` says
 * whether the point was stored before: only then can it hold vectors whose bytes the usage must
 * give back, so a new point costs no reads.
 */
export async function writeVectors(tx: Transaction, c: Collection, id: PointId, vectors: ReadonlyMap<string, Float32Array>, replaceAll: boolean, existed: boolean, usage: UsageDelta): Promise<void> {
  const idItem = pointIdItem(id);
  const names = Object.keys(c.config.vectors).filter(name => replaceAll || vectors.has(name));
  const keys = names.map(name => c.keys.vectors(name).pack([idItem]));
  const olds = existed ? await Promise.all(keys.map(key => tx.get(key))) : [];
  for (const [i, name] of names.entries()) {
    const v = vectors.get(name);
    const key = keys[i] as Uint8Array;
    if (v !== undefined) {
      tx.set(key, encodeVector(v));
      usage.vectorBytes += v.length * 4;
    } else tx.clear(key);
    usage.vectorBytes -= olds[i]?.length ?? 0;
    notePendingVector(tx, c, name, idItem);
  }
}

/** Log that point `idItem`'s vector `name` changed (or went), for the vector index to catch up. */
export function notePendingVector(tx: Transaction, c: Collection, name: string, idItem: TupleItem): void {
  tx.set(c.keys.pending(name).pack([idItem]), EMPTY);
  tx.set(c.keys.pendingFlag, EMPTY);
  tx.add(c.keys.vectorsVersion, ONE);
}

/** Remove points (with their stored records): records, vectors, index entries, and their usage. */
export async function removePoints(tx: Transaction, c: Collection, points: readonly { readonly id: PointId; readonly record: PointRecord }[]): Promise<void> {
  const names = Object.keys(c.config.vectors);
  const usage = { points: -points.length, payloadBytes: 0, vectorBytes: 0 };
  // The vectors' sizes are read first (all at once), so the usage gives back what was stored.
  const vectorKeys = points.map(({ id }) => names.map(name => c.keys.vectors(name).pack([pointIdItem(id)])));
  const stored = await Promise.all(vectorKeys.flat().map(key => tx.get(key)));
  for (const v of stored) usage.vectorBytes -= v?.length ?? 0;
  for (const [i, { id, record }] of points.entries()) {
    const idItem = pointIdItem(id);
    for (const key of entryKeys(c, idItem, record).values()) tx.clear(key);
    for (const [j, name] of names.entries()) {
      tx.clear(vectorKeys[i]?.[j] as Uint8Array);
      notePendingVector(tx, c, name, idItem);
    }
    tx.clear(c.keys.points.pack([idItem]));
    usage.payloadBytes -= storedSize(record);
  }
  if (points.length > 0) applyUsage(tx, c, usage);
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
