import { concatBytes } from '../../src/kv/keys.js';
import type { Subspace } from '../../src/kv/subspace.js';
import type { Transaction } from '../../src/kv/types.js';
import type { PointRecord } from '../record/codec.js';
import type { Collection, ShardKey } from '../record/collections.js';
import type { Filter } from '../record/filter/types.js';
import { stringItem, uuidItem } from '../record/index-entries.js';
import { canonicalUuid } from '../record/point-id.js';
import type { PayloadScope } from '../record/scope.js';
import { nodeBytes, type NodeId } from './hnsw/graph.js';

/**
 * Partition graphs (Qdrant's multitenancy with `payload_m`): besides the global graph (none when
 * `m` is 0), a graph per value of each `is_tenant` payload index and per shard key, linked with
 * `payload_m`. A query pinned to a tenant value or shard key searches only that graph, whose nodes
 * all belong to the partition, so its recall does not depend on how the other partitions' points
 * lie. Which partitions a node is in is recorded, so an update or delete leaves the right ones.
 */

/** A partition: one value of an `is_tenant` field, or one shard key. */
export type Partition = readonly ['t', string, string | number] | readonly ['s', ShardKey];

/** The links per node in partition graphs; 0 when the collection builds none. */
export function payloadM(c: Collection): number {
  return c.config.hnsw.payload_m ?? 0;
}

const spaces = new WeakMap<Collection['keys'], Map<string, Subspace>>();

/**
 * The subspace `make` gives, once per collection and `key`: collections are shared between
 * requests (see collections.ts), so graph subspaces, and the keys packed from them, are too.
 */
export function graphSubspace(c: Collection, key: string, make: () => Subspace): Subspace {
  let byKey = spaces.get(c.keys);
  if (byKey === undefined) spaces.set(c.keys, (byKey = new Map()));
  let space = byKey.get(key);
  if (space === undefined) {
    if (byKey.size >= 10_000) byKey.clear();
    byKey.set(key, (space = make()));
  }
  return space;
}

/** The graph of `partition` for vector `name`. */
export function partitionSpace(c: Collection, name: string, partition: Partition): Subspace {
  return graphSubspace(c, JSON.stringify([name, ...partition]), () => makePartitionSpace(c, name, partition));
}

function makePartitionSpace(c: Collection, name: string, partition: Partition): Subspace {
  if (partition[0] === 's') return c.keys.vectorIndex.subspace([name, 's', partition[1]]);
  const schema = c.indexes[partition[1]];
  const value = partition[2];
  const item = schema?.type === 'uuid' && typeof value === 'string' ? uuidItem(canonicalUuid(value) ?? value) : typeof value === 'string' ? stringItem(value) : value;
  return c.keys.vectorIndex.subspace([name, 't', partition[1], item]);
}

/**
 * The partitions a point belongs to (top-level `is_tenant` fields holding one scalar, its shard
 * key). Indexes still building count: their graphs fill while the payload index does (queries use
 * them once it is complete).
 */
export function partitionsOf(c: Collection, record: PointRecord): Partition[] {
  if (payloadM(c) === 0) return [];
  const out: Partition[] = [];
  for (const [field, schema] of Object.entries(c.indexes)) {
    if (schema.is_tenant !== true) continue;
    // An array holds several values, and a query pinned to any of them must find the point.
    const held = record.payload[field];
    for (const value of new Set(Array.isArray(held) ? held : [held])) {
      if (partitionValue(schema.type, value)) out.push(['t', field, value]);
    }
  }
  if (record.shardKey !== undefined) out.push(['s', record.shardKey]);
  return out;
}

/** A value that names a partition of an `is_tenant` field of `type` (a uuid field: a valid uuid). */
function partitionValue(type: string, value: unknown): value is string | number {
  if (type === 'uuid') return typeof value === 'string' && canonicalUuid(value) !== undefined;
  return typeof value === 'string' || (typeof value === 'number' && Number.isSafeInteger(value));
}

/** The partition a query is pinned to, if any: its shard key, or a scope or `must` equality on a tenant field. */
export function pinnedPartition(c: Collection, spec: { filter?: Filter | undefined; scope?: PayloadScope | undefined; shardKey?: ShardKey | undefined }): Partition | undefined {
  if (payloadM(c) === 0) return undefined;
  if (spec.shardKey !== undefined) return ['s', spec.shardKey];
  const tenantField = (field: string) => Object.hasOwn(c.indexes, field) && c.indexes[field]?.is_tenant === true && c.indexes[field]?.building !== true;
  const typeOf = (field: string) => c.indexes[field]?.type ?? '';
  for (const [field, value] of Object.entries(spec.scope ?? {})) {
    if (tenantField(field) && partitionValue(typeOf(field), value)) return ['t', field, value];
  }
  for (const condition of spec.filter?.must ?? []) {
    if (condition.kind === 'match_value' && condition.key.rest.length === 0 && tenantField(condition.key.text) && partitionValue(typeOf(condition.key.text), condition.value)) {
      return ['t', condition.key.text, condition.value];
    }
  }
  return undefined;
}

/**
 * True when being in `partition` is all that the query asks of a point: no other condition, scope
 * or shard key to check, so a walk of the partition's graph needs no filter.
 */
export function partitionCovers(c: Collection, spec: { filter?: Filter | undefined; scope?: PayloadScope | undefined; shardKey?: ShardKey | undefined }, partition: Partition): boolean {
  // A uuid field's graph holds every spelling of the uuid; an equality matches one: filter the walk.
  if (partition[0] === 't' && c.indexes[partition[1]]?.type === 'uuid') return false;
  const pinned = (field: string, value: unknown) => partition[0] === 't' && partition[1] === field && partition[2] === value;
  if (spec.shardKey !== undefined && !(partition[0] === 's' && partition[1] === spec.shardKey)) return false;
  for (const [field, value] of Object.entries(spec.scope ?? {})) if (!pinned(field, value)) return false;
  const f = spec.filter;
  if (f === undefined) return true;
  if (f.should.length > 0 || f.mustNot.length > 0 || f.minShould !== undefined) return false;
  return f.must.every(m => m.kind === 'match_value' && m.key.rest.length === 0 && pinned(m.key.text, m.value));
}

/** Which partitions a node was linked into (so it can be unlinked from them). */
export async function membership(tx: Transaction, c: Collection, name: string, node: NodeId): Promise<Partition[]> {
  const raw = await tx.get(membershipKey(c, name, node));
  return raw === undefined ? [] : (JSON.parse(Buffer.from(raw).toString('utf8')) as Partition[]);
}

export function setMembership(tx: Transaction, c: Collection, name: string, node: NodeId, partitions: readonly Partition[]): void {
  const key = membershipKey(c, name, node);
  if (partitions.length === 0) tx.clear(key);
  else tx.set(key, Buffer.from(JSON.stringify(partitions)));
}

function membershipKey(c: Collection, name: string, node: NodeId): Uint8Array {
  return concatBytes(c.keys.vectorIndex.pack([name, 'm']), nodeBytes(node));
}
