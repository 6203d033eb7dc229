import type { Subspace } from '../../src/kv/subspace.js';
import type { Transaction } from '../../src/kv/types.js';
import { concatBytes, prefixEnd } from '../../src/kv/keys.js';
import { pages } from '../../src/kv/pages.js';
import { decodeRecord } from '../record/codec.js';
import type { Collection } from '../record/collections.js';
import { decodePointId } from '../record/layout.js';
import type { PointId } from '../record/point-id.js';
import { deleteNode } from './hnsw/delete.js';
import { GraphStore, nodeBytes, nodeOf, rankDistance, type GraphMemo, type HnswParams, type NodeId } from './hnsw/graph.js';
import type { VectorCache } from './cache.js';
import { insertNode } from './hnsw/insert.js';
import type { Accept } from './hnsw/layer.js';
import { searchGraph } from './hnsw/search.js';
import { membership, partitionSpace, partitionsOf, payloadM, setMembership, type Partition } from './partitions.js';

/**
 * The vector index of a collection: one HNSW graph per vector name, kept in step with the points by
 * an indexer that consumes the record layer's pending log (points whose vector changed), a batch
 * per transaction. Until a point is linked, searches score it exactly from that log (the "tail"),
 * so a point is findable as soon as its upsert returns (Qdrant's way).
 */

/** Where the global graph of vector `name` lives. */
export function graphSpace(c: Collection, name: string): Subspace {
  return c.keys.vectorIndex.subspace([name, 'g']);
}

function hnswParams(c: Collection): HnswParams {
  return { m: c.config.hnsw.m, efConstruct: c.config.hnsw.ef_construct };
}

/** True when the collection builds a global graph (Qdrant's `m: 0` builds none). */
export function hasGlobalGraph(c: Collection): boolean {
  return c.config.hnsw.m > 0;
}

function store(tx: Transaction, c: Collection, name: string): GraphStore {
  return new GraphStore(tx, graphSpace(c, name), c.keys.vectors(name));
}

/**
 * Link up to `limit` pending points of vector `name` into the graphs (re-linking updated ones and
 * unlinking removed ones: from the global graph and from every partition graph they were in),
 * clearing their pending entries. Returns how many were handled.
 */
export async function indexPending(tx: Transaction, c: Collection, name: string, limit = 32): Promise<number> {
  const pending = c.keys.pending(name);
  const { begin, end } = pending.range();
  const { kvs } = await tx.getRange(begin, end, { limit });
  if (kvs.length === 0) return 0;
  const distance = c.config.vectors[name]?.distance;
  if (distance === undefined) return 0;
  const rank = rankDistance(distance);
  const global = store(tx, c, name);
  const partitionParams: HnswParams = { m: payloadM(c), efConstruct: c.config.hnsw.ef_construct };
  const partitionStore = (p: Partition) => new GraphStore(tx, partitionSpace(c, name, p), c.keys.vectors(name));
  for (const { key } of kvs) {
    const node = nodeOf(key.subarray(pending.prefix.length));
    if (hasGlobalGraph(c) && (await global.level(node)) !== undefined) await deleteNode(global, rank, hnswParams(c), node);
    for (const p of await membership(tx, c, name, node)) {
      const s = partitionStore(p);
      if ((await s.level(node)) !== undefined) await deleteNode(s, rank, partitionParams, node);
    }
    const [vector] = await global.vectors([node]);
    const raw = vector === null || vector === undefined ? undefined : await tx.get(concatBytes(c.keys.points.prefix, nodeBytes(node)));
    const partitions = raw === undefined ? [] : partitionsOf(c, decodeRecord(raw));
    if (vector !== null && vector !== undefined && raw !== undefined) {
      if (hasGlobalGraph(c)) await insertNode(global, rank, hnswParams(c), node, vector);
      for (const p of partitions) await insertNode(partitionStore(p), rank, partitionParams, node, vector);
    }
    setMembership(tx, c, name, node, partitions);
    tx.clear(key);
    // Linking is CPU work between reads that the embedded engine answers at once (microtasks):
    // without a turn of the event loop here, a batch would hold off every request of the server.
    await new Promise<void>(resolve => setImmediate(resolve));
  }
  return kvs.length;
}

/** The points of vector `name` not yet linked (the tail a search scores exactly), up to `limit`. */
export async function pendingNodes(tx: Transaction, c: Collection, name: string, limit = 100_000): Promise<NodeId[]> {
  const pending = c.keys.pending(name);
  const out: NodeId[] = [];
  const { begin, end } = pending.range();
  for await (const page of pages(tx, begin, end, { limit: 1000 })) {
    for (const { key } of page) out.push(nodeOf(key.subarray(pending.prefix.length)));
    if (out.length >= limit) break;
  }
  return out;
}

/** How many points of vector `name` are linked: into the global graph, or else into partitions. */
export async function indexedCount(tx: Transaction, c: Collection, name: string): Promise<number> {
  if (hasGlobalGraph(c)) return store(tx, c, name).count();
  const prefix = c.keys.vectorIndex.pack([name, 'm']);
  let n = 0;
  for await (const page of pages(tx, prefix, prefixEnd(prefix), { limit: 10_000, snapshot: true })) n += page.length;
  return n;
}

/** The graph a search of vector `name` should walk, if one has nodes: the pinned partition's, else the global one. */
export async function graphFor(tx: Transaction, c: Collection, name: string, partition: Partition | undefined): Promise<Subspace | undefined> {
  const space = partition !== undefined ? partitionSpace(c, name, partition) : hasGlobalGraph(c) ? graphSpace(c, name) : undefined;
  if (space === undefined) return undefined;
  return (await new GraphStore(tx, space, c.keys.vectors(name)).count()) > 0 ? space : undefined;
}

/**
 * The nearest `k` linked points to `query` (already preprocessed), by graph search with beam `ef`;
 * with `accept`, only accepted points (the search walks through the others).
 */
export async function graphNearest(
  tx: Transaction,
  c: Collection,
  name: string,
  space: Subspace,
  query: Float32Array,
  k: number,
  ef: number,
  accept?: Accept,
  cache?: VectorCache,
): Promise<{ id: PointId; vector: Float32Array }[]> {
  const distance = c.config.vectors[name]?.distance;
  if (distance === undefined) return [];
  let memo: GraphMemo | undefined;
  if (cache !== undefined) {
    // Both versions read in this transaction: the memo is used only if nothing changed since.
    const [graphVersion, vectorsVersion] = await Promise.all([new GraphStore(tx, space, c.keys.vectors(name)).version(), tx.get(c.keys.vectorsVersion)]);
    const vv = vectorsVersion === undefined ? '0' : Buffer.from(vectorsVersion).readBigUInt64LE().toString();
    memo = cache.memo(Buffer.from(space.prefix).toString('latin1'), `${graphVersion}:${vv}`);
  }
  const graph = new GraphStore(tx, space, c.keys.vectors(name), memo);
  const found = await searchGraph(graph, rankDistance(distance), query, k, ef, accept);
  const vectors = await graph.vectors(found.map(f => f.node));
  return found.flatMap((f, i) => {
    const v = vectors[i];
    return v === null || v === undefined ? [] : [{ id: decodePointId(nodeBytes(f.node)), vector: v }];
  });
}
