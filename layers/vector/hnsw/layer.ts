import { DistanceHeap } from './heap.js';
import type { GraphStore, NodeId } from './graph.js';

/**
 * The two HNSW building blocks (Malkov & Yashunin, algorithms 2 and 4): a best-first search of one
 * layer, and the neighbour-selection heuristic that keeps links diverse.
 */

/** Ranks two vectors: lower is closer. */
export type Rank = (a: Float32Array, b: Float32Array) => number;

/**
 * Which of `nodes` may be returned (a filter): asked for a step's new nodes together, so a filter
 * that must read payloads reads them in one batch, alongside the vectors.
 */
export type Accept = (nodes: readonly NodeId[]) => Promise<readonly boolean[]>;

/** A node with its distance to the query. */
export interface Scored {
  readonly node: NodeId;
  readonly distance: number;
}

/**
 * The `ef` nodes closest to `query` reachable at `level` from `entries`. With `accept`, only
 * accepted nodes enter the result, but the search walks through the others, so recall holds when
 * few nodes pass a filter.
 */
export async function searchLayer(
  store: GraphStore,
  rank: Rank,
  query: Float32Array,
  entries: readonly Scored[],
  ef: number,
  level: number,
  accept?: Accept,
): Promise<Scored[]> {
  const visited = new Set<NodeId>();
  const candidates = new DistanceHeap();
  const results = new DistanceHeap(true);
  const entriesAccepted = accept === undefined ? undefined : await accept(entries.map(e => e.node));
  for (const [i, e] of entries.entries()) {
    visited.add(e.node);
    candidates.push(e.distance, e.node);
    if (entriesAccepted === undefined || entriesAccepted[i] === true) results.push(e.distance, e.node);
  }
  while (results.size > ef) results.pop();
  while (candidates.size > 0) {
    const [distance, node] = candidates.pop() as [number, NodeId];
    if (results.size >= ef && distance > results.peekDistance()) break;
    const fresh = (await store.neighbours(level, node)).filter(n => !visited.has(n));
    for (const n of fresh) visited.add(n);
    if (fresh.length === 0) continue;
    const [vectors, accepted] = await Promise.all([store.vectors(fresh), accept === undefined ? undefined : accept(fresh)]);
    for (const [i, n] of fresh.entries()) {
      const v = vectors[i];
      if (v === null || v === undefined) continue; // a point deleted under a stale link
      const d = rank(query, v);
      if (results.size < ef || d < results.peekDistance()) {
        candidates.push(d, n);
        if (accepted === undefined || accepted[i] === true) {
          results.push(d, n);
          if (results.size > ef) results.pop();
        }
      }
    }
  }
  return results
    .entries()
    .map(([distance, node]) => ({ node, distance }))
    .sort((a, b) => a.distance - b.distance || (a.node < b.node ? -1 : 1));
}

/**
 * Choose up to `m` neighbours among `candidates` (sorted closest first): a candidate is kept only
 * when it is closer to the base than to every neighbour already kept, so links spread in all
 * directions; slots left over are filled with the closest of the rest.
 */
export async function selectNeighbours(store: GraphStore, rank: Rank, candidates: readonly Scored[], m: number): Promise<Scored[]> {
  if (candidates.length <= m) return [...candidates];
  const vectors = await store.vectors(candidates.map(c => c.node));
  const kept: Scored[] = [];
  const keptVectors: Float32Array[] = [];
  const skipped: Scored[] = [];
  for (const [i, c] of candidates.entries()) {
    if (kept.length >= m) break;
    const v = vectors[i];
    if (v === null || v === undefined) continue;
    if (keptVectors.every(k => rank(v, k) > c.distance)) {
      kept.push(c);
      keptVectors.push(v);
    } else skipped.push(c);
  }
  for (const c of skipped) {
    if (kept.length >= m) break;
    kept.push(c);
  }
  return kept;
}
