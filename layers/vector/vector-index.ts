import type { Subspace } from '../../src/kv/subspace.js';
import type { Transaction } from '../../src/kv/types.js';
import { concatBytes, prefixEnd } from '../../src/kv/keys.js';
import { pages } from '../../src/kv/pages.js';
import { keyspaceOf } from '../../src/tenancy/scoped.js';
import { decodeRecord, decodeVector } from '../record/codec.js';
import type { Collection } from '../record/collections.js';
import { decodePointId } from '../record/layout.js';
import type { PointId } from '../record/point-id.js';
import { deleteNode } from './hnsw/delete.js';
import { graphCount, graphId, GraphStore, graphVersion, nodeBytes, nodeOf, type HnswParams, type NodeId } from './hnsw/graph.js';
import { GraphMemo } from './hnsw/memo.js';
import { WriterMemos } from './writer-memos.js';
import type { VectorCache } from './cache.js';
import { insertNode } from './hnsw/insert.js';
import type { Accept } from './hnsw/layer.js';
import { searchGraph } from './hnsw/search.js';
import { graphSubspace, membership, partitionSpace, partitionsOf, payloadM, setMembership, type Partition } from './partitions.js';

/**
 * The vector index of a collection: one HNSW graph per vector name, kept in step with the points by
 * an indexer that consumes the record layer's pending log (points whose vector changed), a batch
 * per transaction. Until a point is linked, searches score it exactly from that log (the "tail"),
 * so a point is findable as soon as its upsert returns (Qdrant's way).
 */

/** Where the global graph of vector `name` lives. */
export function graphSpace(c: Collection, name: string): Subspace {
  return graphSubspace(c, name, () => c.keys.vectorIndex.subspace([name, 'g']));
}

function hnswParams(c: Collection): HnswParams {
  return { m: c.config.hnsw.m, efConstruct: c.config.hnsw.ef_construct };
}

/** True when the collection builds a global graph (Qdrant's `m: 0` builds none). */
export function hasGlobalGraph(c: Collection): boolean {
  return c.config.hnsw.m > 0;
}

/**
 * Link up to `limit` pending points of vector `name` into the graphs (re-linking updated ones and
 * unlinking removed ones: from the global graph and from every partition graph they were in),
 * clearing their pending entries. Returns how many were handled: at least one, and no more once
 * `deadline` (a `performance.now()` time) has passed. `memos` keeps decoded graphs across the
 * caller's transactions (the indexer's); by default they last this call only.
 */
export async function indexPending(tx: Transaction, c: Collection, name: string, limit = 32, memos = new WriterMemos(), deadline = Number.POSITIVE_INFINITY): Promise<number> {
  const params = c.config.vectors[name];
  if (params === undefined) return 0;
  const pending = c.keys.pending(name);
  const { begin, end } = pending.range();
  const vectors = c.keys.vectors(name);
  const globalParams = hnswParams(c);
  const partitionParams: HnswParams = { m: payloadM(c), efConstruct: c.config.hnsw.ef_construct };
  const storeOf = (graph: Subspace) => memos.store(tx, graph, vectors, params.distance, params.size);
  const global = hasGlobalGraph(c) ? await storeOf(graphSpace(c, name)) : undefined;
  const partitionStore = (p: Partition) => storeOf(partitionSpace(c, name, p));
  let handled = 0;
  // Pending keys are read a few at a time: a key read is one a concurrent upsert conflicts with.
  for await (const { key } of keysOf(pages(tx, begin, end, { limit: Math.min(limit, 64) }))) {
    if (handled >= limit || (handled > 0 && performance.now() >= deadline)) break;
    handled++;
    const node = nodeOf(key.subarray(pending.prefix.length));
    const [rawVector, raw, was] = await Promise.all([tx.get(concatBytes(vectors.prefix, nodeBytes(node))), tx.get(concatBytes(c.keys.points.prefix, nodeBytes(node))), membership(tx, c, name, node)]);
    const vector = rawVector === undefined || raw === undefined ? null : decodeVector(rawVector);
    const partitions = vector === null || raw === undefined ? [] : partitionsOf(c, decodeRecord(raw));
    // Unlink from every graph the node was in, then link it where it belongs now. Every memo that
    // saw the node learns its vector as it is now, so none walks to it by an old one.
    const touched: { store: GraphStore; params: HnswParams; link: boolean }[] = [];
    if (global !== undefined) touched.push({ store: global, params: globalParams, link: vector !== null });
    for (const p of was) touched.push({ store: await partitionStore(p), params: partitionParams, link: false });
    for (const p of partitions) {
      const s = await partitionStore(p);
      const seen = touched.find(t => t.store === s);
      if (seen !== undefined) seen.link = true;
      else touched.push({ store: s, params: partitionParams, link: true });
    }
    for (const t of touched) {
      if ((await t.store.level(t.store.handle(node))) !== undefined) await deleteNode(t.store, t.params, node);
      t.store.knowVector(t.store.handle(node), vector);
      if (t.link && vector !== null) await insertNode(t.store, t.params, node, vector);
    }
    setMembership(tx, c, name, node, partitions);
    tx.clear(key);
    // Linking is CPU work between reads that the embedded engine answers at once (microtasks):
    // without a turn of the event loop here, a batch would hold off every request of the server.
    await new Promise<void>(resolve => setImmediate(resolve));
  }
  await memos.flush();
  return handled;
}

async function* keysOf(source: AsyncGenerator<{ key: Uint8Array }[]>): AsyncGenerator<{ key: Uint8Array }> {
  for await (const page of source) yield* page;
}

/** The points of vector `name` not yet linked (the tail a search scores exactly), up to `limit`. */
export async function pendingNodes(tx: Transaction, c: Collection, name: string, limit = 100_000): Promise<NodeId[]> {
  // The collection's flag is up whenever anything is pending: one read instead of a range scan.
  if ((await tx.get(c.keys.pendingFlag)) === undefined) return [];
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
  if (hasGlobalGraph(c)) return graphCount(tx, graphSpace(c, name));
  const prefix = c.keys.vectorIndex.pack([name, 'm']);
  let n = 0;
  for await (const page of pages(tx, prefix, prefixEnd(prefix), { limit: 10_000, snapshot: true })) n += page.length;
  return n;
}

/** The graph a search of vector `name` should walk, if one has nodes: the pinned partition's, else the global one. */
export async function graphFor(tx: Transaction, c: Collection, name: string, partition: Partition | undefined): Promise<Subspace | undefined> {
  const space = partition !== undefined ? partitionSpace(c, name, partition) : hasGlobalGraph(c) ? graphSpace(c, name) : undefined;
  if (space === undefined) return undefined;
  return (await graphCount(tx, space)) > 0 ? space : undefined;
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
): Promise<{ node: NodeId; id: PointId; vector: Float32Array }[]> {
  const params = c.config.vectors[name];
  if (params === undefined) return [];
  let memo: GraphMemo;
  if (cache !== undefined) {
    // Both versions read in this transaction: the memo is used only if nothing changed since.
    const [graph, vectors] = await Promise.all([graphVersion(tx, space), tx.get(c.keys.vectorsVersion)]);
    const vectorsTag = vectors === undefined ? '' : Buffer.from(vectors.buffer, vectors.byteOffset, vectors.byteLength).toString('latin1');
    // Keyed by the tenant as well: the same keys name another tenant's graph in its keyspace.
    memo = cache.memo(keyspaceOf(tx) + graphId(space), `${graph}:${vectorsTag}`, params.distance, params.size);
  } else memo = new GraphMemo(params.distance, params.size);
  memo.use();
  try {
    const graph = new GraphStore(tx, space, c.keys.vectors(name), memo);
    const found = await searchGraph(graph, query, k, ef, accept);
    // A node can linger behind a one-way link after leaving the graph (a point that moved to
    // another partition still has a vector): only members count.
    const handles = found.map(f => f.handle);
    const levels = await Promise.all(handles.map(h => graph.level(h)));
    const members = handles.filter((h, i) => levels[i] !== undefined && (memo.slots[h] as number) >= 0);
    const vectors = memo.copyVectors(members);
    return members.map((h, i) => ({ node: graph.node(h), id: decodePointId(nodeBytes(graph.node(h))), vector: vectors[i] as Float32Array }));
  } finally {
    memo.leave();
    if (cache === undefined) memo.retire();
  }
}
