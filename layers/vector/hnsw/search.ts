import type { GraphStore } from './graph.js';
import { searchLayer, type Accept, type Rank, type Scored } from './layer.js';

/**
 * Nearest-neighbour search over the graph: greedy descent through the upper layers, then a search
 * of the ground layer with `ef` candidates. With `accept`, only accepted nodes are returned, and the
 * search walks through the others to find them.
 */
export async function searchGraph(store: GraphStore, rank: Rank, query: Float32Array, k: number, ef: number, accept?: Accept): Promise<Scored[]> {
  const entry = await store.entry();
  if (entry === undefined) return [];
  const [entryVector] = await store.vectors([entry.node]);
  if (entryVector === null || entryVector === undefined) return [];
  let nearest: Scored[] = [{ node: entry.node, distance: rank(query, entryVector) }];
  for (let l = entry.level; l > 0; l--) nearest = (await searchLayer(store, rank, query, nearest, 1, l)).slice(0, 1);
  const found = await searchLayer(store, rank, query, nearest, Math.max(ef, k), 0, accept);
  return found.slice(0, k);
}
