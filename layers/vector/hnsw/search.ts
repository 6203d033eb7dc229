import type { GraphStore, NodeId } from './graph.js';
import { searchLayer, type Accept, type Scored } from './layer.js';

/** A node found by a search, with its rank distance to the query (lower is closer). */
export interface Found {
  readonly node: NodeId;
  /** Its handle in the store's memo. */
  readonly handle: number;
  readonly distance: number;
}

/**
 * Nearest-neighbour search over the graph: greedy descent through the upper layers, then a search
 * of the ground layer with `ef` candidates. With `accept`, only accepted nodes are returned, and the
 * search walks through the others to find them.
 */
export async function searchGraph(store: GraphStore, query: Float32Array, k: number, ef: number, accept?: Accept): Promise<Found[]> {
  const entry = await store.entry();
  if (entry === undefined) return [];
  const entryVector = await store.vector(entry.node);
  const memo = store.memo;
  const slot = memo.scratch(query);
  try {
    // An entry whose point was just removed (the indexer has yet to pick another) still leads
    // into the graph: it starts the walk at an infinite distance, and is never returned.
    let nearest: Scored[] = [{ node: entry.node, distance: entryVector === null ? Number.POSITIVE_INFINITY : memo.rank(slot, entryVector) }];
    for (let l = entry.level; l > 0; l--) nearest = (await searchLayer(store, slot, nearest, 1, l)).slice(0, 1);
    const found = await searchLayer(store, slot, nearest, Math.max(ef, k), 0, accept);
    return found.slice(0, k).map(f => ({ node: store.node(f.node), handle: f.node, distance: f.distance }));
  } finally {
    memo.spare(slot);
  }
}
