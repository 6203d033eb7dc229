import { DistanceHeap } from './heap.js';
import type { GraphStore, NodeId } from './graph.js';
import { UNREAD } from './memo.js';

/**
 * The two HNSW building blocks (Malkov & Yashunin, algorithms 2 and 4): a best-first search of one
 * layer, and the neighbour-selection heuristic that keeps links diverse. Both work on node handles
 * and the store's memo; they wait on the store only for what the memo lacks, so on a warm memo a
 * search is synchronous array work.
 */


/**
 * Which of `nodes` may be returned (a filter): asked for a step's new nodes together, so a filter
 * that must read payloads reads them in one batch, alongside the vectors.
 */
export type Accept = (nodes: readonly NodeId[]) => Promise<readonly boolean[]>;

/** A node (by handle) with its distance to the query. */
export interface Scored {
  readonly node: number;
  readonly distance: number;
}

/**
 * The `ef` nodes closest to `query` (a slot of the memo) reachable at `level` from `entries`, closest first. With
 * `accept`, only accepted nodes enter the result, but the search walks through the others, so
 * recall holds when few nodes pass a filter.
 */
export async function searchLayer(
  store: GraphStore,
  query: number,
  entries: readonly Scored[],
  ef: number,
  level: number,
  accept?: Accept,
): Promise<Scored[]> {
  const memo = store.memo;
  const lists = memo.level(level);
  let slots = memo.slots;
  const visited = store.visited();
  try {
    const candidates = new DistanceHeap();
    const results = new DistanceHeap(true);
    const entriesAccepted = accept === undefined ? undefined : await accept(entries.map(e => store.node(e.node)));
    for (const [i, e] of entries.entries()) {
      visited.add(e.node);
      candidates.push(e.distance, e.node);
      if (entriesAccepted === undefined || entriesAccepted[i] === true) results.push(e.distance, e.node);
    }
    while (results.size > ef) results.pop();
    const fresh: number[] = [];
    const withVector: number[] = []; // accepted flags of the nodes kept for ranking
    while (candidates.size > 0) {
      const distance = candidates.peekDistance();
      const node = candidates.peekNode();
      candidates.pop();
      if (results.size >= ef && distance > results.peekDistance()) break;
      let list = lists[node];
      if (list === undefined) {
        list = await store.neighbours(level, node);
        slots = memo.slots;
      }
      fresh.length = 0;
      let missing = false;
      for (const n of list) {
        if (visited.has(n)) continue;
        visited.add(n);
        fresh.push(n);
        if (slots[n] === UNREAD) missing = true;
      }
      if (fresh.length === 0) continue;
      let accepted: readonly boolean[] | undefined;
      if (accept !== undefined) [, accepted] = await Promise.all([missing ? store.loadVectors(fresh) : undefined, accept(fresh.map(n => store.node(n)))]);
      else if (missing) await store.loadVectors(fresh);
      if (accept !== undefined || missing) slots = memo.slots;
      // Nodes whose point is gone (under a stale link) are skipped; the rest ranked in one batch.
      let count = 0;
      for (let i = 0; i < fresh.length; i++) {
        const n = fresh[i] as number;
        if ((slots[n] as number) < 0) continue;
        if (accepted !== undefined) withVector[count] = accepted[i] === true ? 1 : 0;
        fresh[count++] = n;
      }
      const ranks = memo.rankMany(query, fresh, count);
      for (let i = 0; i < ranks.length; i++) {
        const n = fresh[i] as number;
        const d = ranks[i] as number;
        if (results.size < ef || d < results.peekDistance()) {
          candidates.push(d, n);
          if (accepted === undefined || withVector[i] === 1) {
            results.push(d, n);
            if (results.size > ef) results.pop();
          }
        }
      }
    }
    return results.drain();
  } finally {
    store.release(visited);
  }
}

/**
 * Choose up to `m` neighbours among `candidates` (sorted closest first): a candidate is kept only
 * when it is closer to the base than to every neighbour already kept, so links spread in all
 * directions; slots left over are filled with the closest of the rest.
 */
export async function selectNeighbours(store: GraphStore, candidates: readonly Scored[], m: number): Promise<Scored[]> {
  if (candidates.length <= m) return [...candidates];
  await store.loadVectors(candidates.map(c => c.node));
  const { slots, rank } = store.memo;
  const kept: Scored[] = [];
  const keptVectors: number[] = [];
  const skipped: Scored[] = [];
  for (const c of candidates) {
    if (kept.length >= m) break;
    const v = slots[c.node] as number;
    if (v < 0) continue;
    let diverse = true;
    for (const k of keptVectors) {
      if (rank(v, k) <= c.distance) {
        diverse = false;
        break;
      }
    }
    if (diverse) {
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
