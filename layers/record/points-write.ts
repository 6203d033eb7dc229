import { StrataError } from '../../src/errors.js';
import type { Transaction } from '../../src/kv/types.js';
import type { PointRecord } from './codec.js';
import { vectorParams } from './collection-config.js';
import type { Collection, ShardKey } from './collections.js';
import type { PointInput } from './parse-points.js';
import type { PointId } from './point-id.js';
import { checkKeepsScope, inScope, withScope, type PayloadScope } from './scope.js';
import { pointIdItem } from './layout.js';
import { mergePayload, withoutPath } from './payload-edit.js';
import { checkShardKey, notePendingVector, readRecord, removePoints, writeRecord, writeVectors } from './store.js';
import { applyWithinLimits, type UsageLimits } from './limits.js';
import { noUsage } from './usage.js';

/**
 * Point writes: upsert, delete, payload and vector updates. Each runs in the caller's transaction
 * and keeps indexes and counts in step. Under a payload scope a write reaches only points inside
 * it (others are treated as absent) and can neither move a point out of it nor take over an id
 * that a point outside it holds.
 */

/** Options every write takes. */
export interface WriteOptions {
  /** The token's payload scope in this collection, if any. */
  readonly scope?: PayloadScope | undefined;
  /** What the collection and tenant may hold; a write past them fails and writes nothing. */
  readonly limits?: UsageLimits | undefined;
}

/** Upsert `points` (replacing whole points), into `shardKey` where the collection is custom-sharded. */
export async function upsertPoints(tx: Transaction, c: Collection, points: readonly PointInput[], options: WriteOptions & { shardKey?: ShardKey | undefined } = {}): Promise<void> {
  checkShardKey(c, options.shardKey);
  // A later point with the same id replaces an earlier one, as if they were upserted in order.
  const byId = new Map<PointId, PointInput>();
  for (const p of points) {
    byId.delete(p.id);
    byId.set(p.id, p);
  }
  const unique = [...byId.values()];
  const payloads = unique.map(p => withScope(options.scope, p.payload));
  const olds = await Promise.all(unique.map(p => readRecord(tx, c, p.id)));
  const usage = noUsage();
  const vectorWrites: Array<Promise<void>> = [];
  for (const [i, p] of unique.entries()) {
    const old = olds[i];
    if (old !== undefined && !inScope(options.scope, old.payload)) {
      throw new StrataError('ERR_ACCESS_PAYLOAD_SCOPE', `point ${JSON.stringify(p.id)} is held by a point outside the token's payload scope`);
    }
    const next: PointRecord = options.shardKey === undefined ? { payload: payloads[i] as Record<string, unknown> } : { payload: payloads[i] as Record<string, unknown>, shardKey: options.shardKey };
    writeRecord(tx, c, p.id, old, next, usage);
    vectorWrites.push(writeVectors(tx, c, p.id, p.vectors, true, old !== undefined, usage));
  }
  await Promise.all(vectorWrites);
  await applyWithinLimits(tx, c, usage, options.limits);
}

/** A point that a write may reach: stored, and visible to the scope. */
export interface Reachable {
  readonly id: PointId;
  readonly record: PointRecord;
}

/** The points of `ids` that exist and are in scope (and in `shardKey`, when given). */
export async function reachableByIds(tx: Transaction, c: Collection, ids: readonly PointId[], scope: PayloadScope | undefined, shardKey?: ShardKey): Promise<Reachable[]> {
  const unique = [...new Set(ids)];
  const records = await Promise.all(unique.map(id => readRecord(tx, c, id)));
  const out: Reachable[] = [];
  for (const [i, id] of unique.entries()) {
    const record = records[i];
    if (record === undefined || !inScope(scope, record.payload)) continue;
    if (shardKey !== undefined && record.shardKey !== shardKey) continue;
    out.push({ id, record });
  }
  return out;
}

/** Points `ids` as a payload or vector update needs them: `ERR_POINT_NOT_FOUND` for any missing. */
export async function requireReachable(tx: Transaction, c: Collection, ids: readonly PointId[], scope: PayloadScope | undefined, shardKey?: ShardKey): Promise<Reachable[]> {
  const found = await reachableByIds(tx, c, ids, scope, shardKey);
  if (found.length < new Set(ids).size) {
    const have = new Set(found.map(p => p.id));
    const missing = ids.find(id => !have.has(id));
    throw new StrataError('ERR_POINT_NOT_FOUND', `Not found: No point with id ${String(missing)} found`, { details: { id: missing } });
  }
  return found;
}

/** Delete `points`. */
export function deletePoints(tx: Transaction, c: Collection, points: readonly Reachable[]): Promise<void> {
  return removePoints(tx, c, points);
}

/** How a payload update changes a payload. */
export type PayloadChange =
  | { readonly kind: 'set'; readonly payload: Readonly<Record<string, unknown>> }
  | { readonly kind: 'overwrite'; readonly payload: Readonly<Record<string, unknown>> }
  | { readonly kind: 'delete'; readonly keys: readonly string[] }
  | { readonly kind: 'clear' };

/** The payload after `change`; scoped fields are kept by overwrite and clear, and may not be altered. */
export function changedPayload(before: Readonly<Record<string, unknown>>, change: PayloadChange, scope: PayloadScope | undefined): Record<string, unknown> {
  let after: Record<string, unknown>;
  switch (change.kind) {
    case 'set':
      after = mergePayload(before, change.payload);
      break;
    case 'overwrite':
      after = withScope(scope, change.payload);
      break;
    case 'delete':
      after = { ...before };
      for (const key of change.keys) after = withoutPath(after, key);
      break;
    case 'clear':
      after = withScope(scope, {});
      break;
  }
  checkKeepsScope(scope, after);
  return after;
}

/** Apply `change` to each of `points`' payloads. */
export async function updatePayloads(tx: Transaction, c: Collection, points: readonly Reachable[], change: PayloadChange, scope: PayloadScope | undefined, limits?: UsageLimits): Promise<void> {
  // Checked for every point before anything is written: a refusal writes nothing.
  const next = points.map(p => changedPayload(p.record.payload, change, scope));
  const usage = noUsage();
  for (const [i, p] of points.entries()) {
    const payload = next[i] as Record<string, unknown>;
    writeRecord(tx, c, p.id, p.record, p.record.shardKey === undefined ? { payload } : { payload, shardKey: p.record.shardKey }, usage);
  }
  await applyWithinLimits(tx, c, usage, limits);
}

/** Set some of the points' vectors (others are kept); the points exist (see requireReachable). */
export async function updateVectors(tx: Transaction, c: Collection, updates: readonly { readonly id: PointId; readonly vectors: ReadonlyMap<string, Float32Array> }[], limits?: UsageLimits): Promise<void> {
  // One write per point, as if the updates were applied in order: each stored vector is then
  // replaced once, and usage counts it once.
  const byId = new Map<PointId, Map<string, Float32Array>>();
  for (const u of updates) {
    const merged = byId.get(u.id) ?? new Map<string, Float32Array>();
    for (const [name, v] of u.vectors) merged.set(name, v);
    byId.set(u.id, merged);
  }
  const usage = noUsage();
  await Promise.all([...byId].map(([id, vectors]) => writeVectors(tx, c, id, vectors, false, true, usage)));
  await applyWithinLimits(tx, c, usage, limits);
}

/** Remove the named vectors of `points`. */
export async function deleteVectors(tx: Transaction, c: Collection, points: readonly Reachable[], vectorNames: readonly string[]): Promise<void> {
  // Each stored vector is removed (and its bytes given back) once, however often it is named.
  const names = [...new Set(vectorNames)];
  for (const name of names) {
    if (vectorParams(c.config, name) === undefined) throw new StrataError('ERR_VECTOR_INVALID', `Wrong input: Not existing vector name error: ${name}`);
  }
  const ids = [...new Set(points.map(p => p.id))];
  const keys = ids.flatMap(id => names.map(name => ({ name, idItem: pointIdItem(id), key: c.keys.vectors(name).pack([pointIdItem(id)]) })));
  const stored = await Promise.all(keys.map(k => tx.get(k.key)));
  const usage = noUsage();
  for (const [i, { name, idItem, key }] of keys.entries()) {
    usage.vectorBytes -= stored[i]?.length ?? 0;
    tx.clear(key);
    notePendingVector(tx, c, name, idItem);
  }
  await applyWithinLimits(tx, c, usage, undefined);
}
