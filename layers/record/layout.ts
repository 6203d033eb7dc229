import { Subspace } from '../../src/kv/subspace.js';
import { pack, unpack, type TupleItem } from '../../src/kv/tuple.js';
import { canonicalUuid, isUuidId, uuidTupleItem, type PointId } from './point-id.js';

/**
 * Where the record layer keeps its data inside a tenant's keyspace. On-disk constants: pinned by
 * test/record/layout.test.ts; changing any of them orphans existing data.
 *
 * Every key starts with `\xfe R`: tenants that also use the native key-value API keep `\xfe` free
 * for Strata's layers, as FoundationDB keeps `\xff` for its system keys.
 *
 * ```
 * (0, name)                      → collection id (8 bytes, big-endian)
 * (1, id)                        → collection config (JSON)
 * (2)                            → last collection id handed out
 * (3, id, 0, point)              → the point's record: payload (and shard key)
 * (3, id, 1, vector name, point) → one vector, Float32 little-endian
 * (3, id, 2, field, value, point)→ empty: a payload index entry
 * (3, id, 3)                     → point count (little-endian 64-bit, atomic add)
 * (3, id, 4, …)                  → the vector index layer's data, and in it:
 * (3, id, 4, name, 'p', point)   → empty: the point's vector `name` changed and is not yet indexed
 * (3, id, 4, null)              → bumped (atomic add) by every transaction that writes a vector
 * (3, id, 5, 0)                 → the collection's payload bytes (records; little-endian 64-bit, atomic add)
 * (3, id, 5, 1)                 → the collection's vector bytes (stored vectors; the same)
 * (4, id)                        → empty: collection `id` has vector changes pending
 * (5, 0)                         → the tenant's points, over all collections (atomic add)
 * (5, 1)                         → the tenant's stored bytes: payloads and vectors (atomic add)
 * ```
 *
 * The pending entries are the record layer's change log for the vector layer: every write of a
 * vector (and every point removal) adds one, blindly, in the writing transaction; the vector
 * layer's indexer consumes them.
 *
 * A point id is packed as one tuple item: an integer as a tuple integer, a UUID as a tuple UUID
 * (0x30), an opaque string as a tuple string. Tuple order then puts strings first, then integers
 * ascending, then UUIDs; among integers and UUIDs that is Qdrant's scroll order.
 */
export const RECORD_ROOT = new Subspace(Uint8Array.of(0xfe, 0x52));
export const COLLECTION_BY_NAME = RECORD_ROOT.subspace([0]);
export const COLLECTION_CONFIG = RECORD_ROOT.subspace([1]);
export const COLLECTION_LAST_ID_KEY = RECORD_ROOT.pack([2]);
export const COLLECTION_DATA = RECORD_ROOT.subspace([3]);
export const VECTORS_PENDING = RECORD_ROOT.subspace([4]);
/** The tenant's usage counters, kept in its own keyspace so a snapshot carries them. */
export const TENANT_POINTS_KEY = RECORD_ROOT.pack([5, 0]);
export const TENANT_BYTES_KEY = RECORD_ROOT.pack([5, 1]);

/** The parts of a collection's data subspace. */
export const PART = { points: 0, vectors: 1, index: 2, count: 3, vectorIndex: 4, usage: 5 } as const;

/** The keys of one collection, computed once per request. */
export interface CollectionKeys {
  readonly data: Subspace;
  readonly points: Subspace;
  readonly index: Subspace;
  readonly count: Uint8Array;
  /** Bytes of the collection's records (payloads). */
  readonly payloadBytes: Uint8Array;
  /** Bytes of the collection's stored vectors. */
  readonly vectorBytes: Uint8Array;
  readonly vectorIndex: Subspace;
  /** The flag saying this collection has vector changes pending. */
  readonly pendingFlag: Uint8Array;
  /** Bumped by every transaction that writes or removes a vector (for caches of decoded vectors). */
  readonly vectorsVersion: Uint8Array;
  vectors(name: string): Subspace;
  /** Points whose vector `name` changed since the vector index last saw them. */
  pending(name: string): Subspace;
}

/** The key layout of the collection with numeric id `id`. */
export function collectionKeys(id: number): CollectionKeys {
  const data = COLLECTION_DATA.subspace([id]);
  const vectorSubspaces = new Map<string, Subspace>();
  const pendingSubspaces = new Map<string, Subspace>();
  const vectorIndex = data.subspace([PART.vectorIndex]);
  return {
    data,
    points: data.subspace([PART.points]),
    index: data.subspace([PART.index]),
    count: data.pack([PART.count]),
    payloadBytes: data.pack([PART.usage, 0]),
    vectorBytes: data.pack([PART.usage, 1]),
    vectorIndex,
    pendingFlag: VECTORS_PENDING.pack([id]),
    vectorsVersion: vectorIndex.pack([null]),
    pending(name) {
      let s = pendingSubspaces.get(name);
      if (s === undefined) pendingSubspaces.set(name, (s = vectorIndex.subspace([name, 'p'])));
      return s;
    },
    vectors(name) {
      let s = vectorSubspaces.get(name);
      if (s === undefined) vectorSubspaces.set(name, (s = data.subspace([PART.vectors, name])));
      return s;
    },
  };
}

/** The tuple item a point id is packed as. */
export function pointIdItem(id: PointId): TupleItem {
  if (typeof id === 'number') return id;
  if (isUuidId(id)) return uuidTupleItem(id);
  return id;
}

/** The id a packed tuple item holds. */
export function pointIdFromItem(item: TupleItem | undefined): PointId {
  if (typeof item === 'number' || typeof item === 'string') return item;
  if (typeof item === 'bigint') return Number(item);
  if (typeof item === 'object' && item !== null && 'type' in item && item.type === 'uuid') {
    const uuid = canonicalUuid(Buffer.from(item.value).toString('hex'));
    if (uuid !== undefined) return uuid;
  }
  throw new Error('a stored point key does not hold a point id');
}

/** The bytes a point id is packed as (the last part of its record, vector and index keys). */
export function encodePointId(id: PointId): Uint8Array {
  return pack([pointIdItem(id)]);
}

/** The point id packed in `bytes` (what {@link encodePointId} made). */
export function decodePointId(bytes: Uint8Array): PointId {
  return pointIdFromItem(unpack(bytes)[0]);
}
