import type { Distance } from './distance.js';
import { GraphMemo } from './hnsw/memo.js';
import { DEFAULT_MEMO_BYTES, MemoShelf } from './memo-shelf.js';

/**
 * Decoded vectors and neighbour lists kept across searches, so that a query walks the graph in
 * memory instead of reading and decoding every step from the store. Each graph's memo is valid for
 * one pair of versions: the graph's own (bumped by every transaction that changes the graph) and the
 * collection's vectors' (bumped by every write of a vector). A search reads both versions in its
 * own transaction and starts the memo afresh when either moved, so it never uses anything another
 * server (or this one) has changed since. Bounded: whole memos are evicted, oldest first.
 *
 * A memo a search still uses when it is replaced or evicted keeps its memory until that search
 * leaves it (`GraphMemo.use`/`leave`).
 *
 * One instance per process (or per database handle); pass it to searches.
 */
export class VectorCache {
  readonly #shelf: MemoShelf<{ versions: string; memo: GraphMemo }>;

  /**
   * `maxGraphs`: how many graphs' memos to keep (partition graphs count one each: a collection
   * of a thousand tenants has a thousand graphs); `maxBytes`: how much decoded vector data they may
   * hold together (default 256 MiB), the bound that matters.
   */
  constructor(maxGraphs = 4096, maxBytes = DEFAULT_MEMO_BYTES) {
    this.#shelf = new MemoShelf(maxGraphs, maxBytes);
  }

  /** The memo of graph `graphKey` at `versions`, fresh when the versions moved. */
  memo(graphKey: string, versions: string, distance: Distance, dim: number): GraphMemo {
    const held = this.#shelf.get(graphKey);
    if (held !== undefined && held.versions === versions) return held.memo;
    const memo = new GraphMemo(distance, dim);
    this.#shelf.set(graphKey, { versions, memo });
    return memo;
  }
}
