import { createHash } from 'node:crypto';
import type { GraphStore, HnswParams, NodeId } from './graph.js';
import { searchLayer, selectNeighbours, type Scored } from './layer.js';
import { NO_VECTOR } from './memo.js';

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
export async function insertNode(store: GraphStore, params: HnswParams, node: NodeId, vector: Float32Array): Promise<void> {
  const h = store.handle(node);
  store.knowVector(h, vector);
  const query = store.memo.slots[h] as number;
  const rank = store.memo.rank;
  const level = levelOf(node, params.m);
  store.setLevel(h, level);
  const entry = await store.entry();
  if (entry === undefined) {
    for (let l = 0; l <= level; l++) store.setNeighbours(l, h, []);
    store.setEntry({ node: h, level });
    return;
  }
  const entryVector = await store.vector(entry.node);
  let nearest: Scored[] = [{ node: entry.node, distance: entryVector !== null ? rank(query, entryVector) : Number.POSITIVE_INFINITY }];
  for (let l = entry.level; l > level; l--) nearest = (await searchLayer(store, query, nearest, 1, l)).slice(0, 1);
  for (let l = Math.min(level, entry.level); l >= 0; l--) {
    const found = await searchLayer(store, query, nearest, params.efConstruct, l);
    const chosen = await selectNeighbours(store, found.filter(f => f.node !== h), maxLinks(params, l));
    store.setNeighbours(l, h, chosen.map(c => c.node));
    for (const c of chosen) await link(store, params, l, c.node, h);
    if (found.length > 0) nearest = found;
  }
  for (let l = entry.level + 1; l <= level; l++) store.setNeighbours(l, h, []);
  if (level > entry.level) store.setEntry({ node: h, level });
}

/**
 * Add `to` to `from`'s links at `level`. A list that goes over its limit is pruned once, when the
 * transaction's inserts are done (`settle`), rather than on every link: a popular node receives
 * many links in one batch, and the heuristic is the costliest step of an insert. Meanwhile the
 * extra links only widen the searches of the batch's later inserts.
 */
async function link(store: GraphStore, params: HnswParams, level: number, from: number, to: number): Promise<void> {
  const list = await store.neighbours(level, from);
  if (list.includes(to)) return;
  // Links are one-way, so removing a node cannot find every link to it: links to removed points
  // (known to have no vector) go whenever a list is rewritten.
  const slots = store.memo.slots;
  const kept = list.filter(n => slots[n] !== NO_VECTOR);
  kept.push(to);
  store.setNeighbours(level, from, kept);
  const limit = maxLinks(params, level);
  if (kept.length > limit) store.markOverfull(level, from, limit);
}

/** Prune the lists this transaction's inserts left over their limit, then write every change. */
export async function settle(store: GraphStore): Promise<void> {
  for (const [level, marked] of store.overfull.entries()) {
    if (marked === undefined) continue;
    for (const [node, limit] of marked) {
      const list = await store.neighbours(level, node);
      if (list.length > limit) await pruneTo(store, limit, level, node, list);
    }
    marked.clear();
  }
  store.flush();
}

/**
 * Set `node`'s links at `level` to the best `limit` of `pool` by the selection heuristic (Malkov &
 * Yashunin's shrinking of an overfull list), dropping nodes whose point is gone.
 */
export async function pruneTo(store: GraphStore, limit: number, level: number, node: number, pool: readonly number[]): Promise<void> {
  const base = await store.vector(node);
  if (base === null) {
    // The node's own point is gone (it is pending removal): keep links, within the limit.
    store.setNeighbours(level, node, pool.slice(0, limit));
    return;
  }
  await store.loadVectors(pool);
  const { slots } = store.memo;
  const present = pool.filter(n => (slots[n] as number) >= 0);
  const ranks = store.memo.rankMany(base, present, present.length);
  const scored: Scored[] = present.map((n, i) => ({ node: n, distance: ranks[i] as number }));
  scored.sort((a, b) => a.distance - b.distance);
  store.setNeighbours(level, node, (await selectNeighbours(store, scored, limit)).map(s => s.node));
}
