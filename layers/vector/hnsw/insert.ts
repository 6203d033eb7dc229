import { createHash } from 'node:crypto';
import type { GraphStore, HnswParams, NodeId } from './graph.js';
import { searchLayer, selectNeighbours, type Rank, type Scored } from './layer.js';

/**
 * Insert a node (its vector already stored, or made known to the store) into the graph.
 */

/** The most layers a graph grows (a node's level is capped here). */
const MAX_LEVEL = 16;

/**
 * A node's top level, drawn from HNSW's exponential distribution by a hash of its id rather than a
 * random source, so re-inserting a point (an update) gives it the same level, and tests repeat.
 */
export function levelOf(node: NodeId, m: number): number {
  const h = createHash('sha256').update(node, 'latin1').digest();
  const u = (h.readUInt32BE(0) + 1) / 4_294_967_297; // (0, 1)
  return Math.min(MAX_LEVEL, Math.floor(-Math.log(u) / Math.log(Math.max(2, m))));
}

/** Links allowed per node at `level`: 2m on the ground layer, m above, as HNSW does. */
export const maxLinks = (params: HnswParams, level: number) => (level === 0 ? 2 * params.m : params.m);

/** Insert `node` with `vector`. A node already in the graph must be deleted first. */
export async function insertNode(store: GraphStore, rank: Rank, params: HnswParams, node: NodeId, vector: Float32Array): Promise<void> {
  store.knowVector(node, vector);
  const level = levelOf(node, params.m);
  store.setLevel(node, level);
  const entry = await store.entry();
  if (entry === undefined) {
    for (let l = 0; l <= level; l++) store.setNeighbours(l, node, []);
    store.setEntry({ node, level });
    return;
  }
  const [entryVector] = await store.vectors([entry.node]);
  let nearest: Scored[] = [{ node: entry.node, distance: entryVector ? rank(vector, entryVector) : Number.POSITIVE_INFINITY }];
  for (let l = entry.level; l > level; l--) nearest = (await searchLayer(store, rank, vector, nearest, 1, l)).slice(0, 1);
  for (let l = Math.min(level, entry.level); l >= 0; l--) {
    const found = await searchLayer(store, rank, vector, nearest, params.efConstruct, l);
    const chosen = await selectNeighbours(store, rank, found.filter(f => f.node !== node), maxLinks(params, l));
    store.setNeighbours(l, node, chosen.map(c => c.node));
    for (const c of chosen) await link(store, rank, params, l, c.node, node);
    if (found.length > 0) nearest = found;
  }
  for (let l = entry.level + 1; l <= level; l++) store.setNeighbours(l, node, []);
  if (level > entry.level) store.setEntry({ node, level });
}

/** Add `to` to `from`'s links at `level`, pruning with the heuristic when over the limit. */
export async function link(store: GraphStore, rank: Rank, params: HnswParams, level: number, from: NodeId, to: NodeId): Promise<void> {
  const list = await store.neighbours(level, from);
  if (list.includes(to)) return;
  const limit = maxLinks(params, level);
  if (list.length < limit) {
    store.setNeighbours(level, from, [...list, to]);
    return;
  }
  const [base] = await store.vectors([from]);
  if (base === null || base === undefined) return;
  const all = [...list, to];
  const vectors = await store.vectors(all);
  const scored = all.flatMap((n, i) => {
    const v = vectors[i];
    return v === null || v === undefined ? [] : [{ node: n, distance: rank(base, v) }];
  });
  scored.sort((a, b) => a.distance - b.distance);
  store.setNeighbours(level, from, (await selectNeighbours(store, rank, scored, limit)).map(s => s.node));
}
