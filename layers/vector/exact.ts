import { StrataError } from '../../src/errors.js';
import type { Transaction } from '../../src/kv/types.js';
import { decodeVectorInto } from '../record/codec.js';
import { vectorNamed } from '../record/collection-config.js';
import { pointCount, type Collection } from '../record/collections.js';
import { concatBytes } from '../../src/kv/keys.js';
import { pages } from '../../src/kv/pages.js';
import { nodeBytes } from './hnsw/graph.js';
import { partitionCovers, pinnedPartition } from './partitions.js';
import type { VectorCache } from './cache.js';
import { graphFor, graphNearest, pendingNodes } from './vector-index.js';
import { decodePointId, pointIdItem } from '../record/layout.js';
import type { ReadSpec } from '../record/plan.js';
import type { PointId } from '../record/point-id.js';
import { estimateSelected, selectedIdsByIndex, selectPoints, visible } from '../record/read.js';
import { decodeRecord } from '../record/codec.js';
import type { Accept } from './hnsw/layer.js';
import { higherIsBetter, passesThreshold, preprocess, score } from './distance.js';
import { TopK } from './top-k.js';

/**
 * Exact nearest-neighbour search: every candidate point's vector is scored against the query. With
 * no filter, scope or shard key it streams the collection's vectors alone (no payload is parsed);
 * otherwise it takes the points the record layer selects and reads their vectors.
 */

/** What to search for. */
export interface SearchSpec extends ReadSpec {
  /** The query vector as the client gave it (normalized here for Cosine). */
  readonly vector: Float32Array;
  /** The vector name ("" for a single-vector collection). */
  readonly using?: string | undefined;
  readonly limit: number;
  readonly offset?: number | undefined;
  readonly scoreThreshold?: number | undefined;
  /** Points never returned (the point a query by id names). */
  readonly exclude?: ReadonlySet<PointId> | undefined;
  /** Score every point, never the graph (Qdrant's `params.exact`). */
  readonly exact?: boolean | undefined;
  /** The graph search's beam (Qdrant's `params.hnsw_ef`; default the collection's `ef_construct`). */
  readonly hnswEf?: number | undefined;
  /** Decoded vectors and links kept across searches (see cache.ts); none: read each time. */
  readonly cache?: VectorCache | undefined;
}

/** One hit. */
export interface Hit {
  readonly id: PointId;
  readonly score: number;
}

const CHUNK = 512;

const idOfNode = (n: string): PointId => decodePointId(nodeBytes(n));

/** The best `limit` points after `offset`, best first, with Qdrant's scores. */
export async function exactSearch(tx: Transaction, c: Collection, spec: SearchSpec): Promise<Hit[]> {
  const [name, params] = vectorNamed(c.config, spec.using);
  if (spec.vector.length !== params.size) {
    throw new StrataError('ERR_VECTOR_INVALID', `Wrong input: Vector dimension error: expected dim: ${params.size}, got ${spec.vector.length}`);
  }
  for (const x of spec.vector) {
    // Checked after the float32 conversion: 1e39 arrives as Infinity, and NaN scores have no order.
    if (!Number.isFinite(x)) throw new StrataError('ERR_VECTOR_INVALID', 'a query vector must hold finite float32 numbers');
  }
  const query = preprocess(params.distance, spec.vector);
  const offset = spec.offset ?? 0;
  const top = new TopK<PointId>(spec.limit + offset, higherIsBetter(params.distance));
  let seq = 0;
  const offer = (id: PointId, v: Float32Array) => {
    if (spec.exclude?.has(id) === true || v.length !== query.length) return;
    const s = score(params.distance, query, v);
    if (spec.scoreThreshold !== undefined && !passesThreshold(params.distance, s, spec.scoreThreshold)) return;
    top.push(s, id, seq++);
  };
  // Stored vectors are decoded into one reused array: offer keeps the score, not the vector.
  const scratch = new Float32Array(query.length);
  const offerStored = (id: PointId, raw: Uint8Array) => {
    if (decodeVectorInto(raw, scratch)) offer(id, scratch);
  };
  const vectors = c.keys.vectors(name);
  const unfiltered = spec.filter === undefined && spec.scope === undefined && spec.shardKey === undefined;
  // Few enough points to score them all faster than walking the graph (Qdrant's rule, in points).
  const fullScanPoints = Math.floor((c.config.hnsw.full_scan_threshold * 1024) / (params.size * 4));
  const partition = pinnedPartition(c, spec);
  let byIndex: AsyncGenerator<Uint8Array[]> | undefined;
  const graph =
    spec.exact !== true &&
    (await pointCount(tx, c, { snapshot: true })) > fullScanPoints &&
    (unfiltered || (await estimateSelected(tx, c, spec, fullScanPoints + 1)) > fullScanPoints)
      ? await graphFor(tx, c, name, partition)
      : undefined;
  if (graph !== undefined) {
    // The graph finds the linked points (walking through those the filter rejects); the pending
    // tail (new or changed since the indexer last ran) is scored exactly, so a point is found as
    // soon as its upsert returned. A pending point's place in a graph is stale (it may even have
    // left the partition), so the graph's answer for it is ignored and the tail's counts.
    const accept: Accept | undefined = unfiltered ? undefined : async nodes => {
      const raws = await Promise.all(nodes.map(n => tx.get(concatBytes(c.keys.points.prefix, nodeBytes(n)))));
      return nodes.map((n, i) => {
        const raw = raws[i];
        return raw !== undefined && visible(spec, idOfNode(n), decodeRecord(raw));
      });
    };
    const tail = await pendingNodes(tx, c, name);
    const stale = new Set(tail);
    // A partition graph holds only its members: when the partition is all the query asks for,
    // the walk needs no filter.
    const walkFilter = partition !== undefined && partitionCovers(c, spec, partition) ? undefined : accept;
    const k = spec.limit + offset + (spec.exclude?.size ?? 0);
    for (const hit of await graphNearest(tx, c, name, graph, query, k, Math.max(spec.hnswEf ?? c.config.hnsw.ef_construct, k), walkFilter, spec.cache)) {
      if (!stale.has(hit.node)) offer(hit.id, hit.vector);
    }
    const [raws, ok] = await Promise.all([Promise.all(tail.map(n => tx.get(concatBytes(vectors.prefix, nodeBytes(n))))), accept?.(tail)]);
    for (const [i, n] of tail.entries()) {
      const raw = raws[i];
      if (raw !== undefined && (ok === undefined || ok[i] === true)) offerStored(idOfNode(n), raw);
    }
  } else if (unfiltered) {
    const { begin, end } = vectors.range();
    const prefixLength = vectors.prefix.length;
    for await (const page of pages(tx, begin, end, { limit: CHUNK })) {
      for (const { key, value } of page) offerStored(decodePointId(key.subarray(prefixLength)), value);
    }
  } else if ((byIndex = selectedIdsByIndex(tx, c, spec)) !== undefined) {
    // One index answers the filter exactly (a tenant's points, say): their vectors are read by
    // the ids in its entries, and no record is parsed.
    for await (const ids of byIndex) {
      const raws = await Promise.all(ids.map(id => tx.get(concatBytes(vectors.prefix, id))));
      for (const [i, id] of ids.entries()) {
        const raw = raws[i];
        if (raw !== undefined) offerStored(decodePointId(id), raw);
      }
    }
  } else {
    let batch: PointId[] = [];
    const flush = async () => {
      const raws = await Promise.all(batch.map(id => tx.get(vectors.pack([pointIdItem(id)]))));
      for (const [i, id] of batch.entries()) {
        const raw = raws[i];
        if (raw !== undefined) offerStored(id, raw);
      }
      batch = [];
    };
    for await (const point of selectPoints(tx, c, spec)) {
      batch.push(point.id);
      if (batch.length === CHUNK) await flush();
    }
    await flush();
  }
  return top.results().slice(offset).map(({ score: s, item }) => ({ id: item, score: s }));
}
