import type { Subspace } from '../../src/kv/subspace.js';
import type { Transaction } from '../../src/kv/types.js';
import type { Distance } from './distance.js';
import { graphId, GraphStore, graphVersion } from './hnsw/graph.js';
import { settle } from './hnsw/insert.js';
import { keyspaceOf } from '../../src/tenancy/scoped.js';
import { DEFAULT_MEMO_BYTES, MemoShelf } from './memo-shelf.js';
import { GraphMemo } from './hnsw/memo.js';

/**
 * The memos a writer (the indexer) keeps across its transactions, one per graph, so that linking
 * batch after batch does not read and decode the neighbourhood afresh each time. A memo is used
 * only while the graph is at the version it reflects: each attempt reads the graph's version (a
 * conflict-checked read, so a concurrent writer of the same graph makes one of them retry), and
 * after a commit the memo reflects that version plus the one bump of its own transaction. A memo
 * that an attempt changed and did not commit is dropped.
 *
 * Vectors in a memo may be older than the store's for points whose vector changed since: those
 * points are pending, and the indexer forgets their vectors when it re-links them (until then the
 * graph places them by the old vector anyway).
 */
export class WriterMemos {
  readonly #held: MemoShelf<{ memo: GraphMemo; version: bigint }>;
  readonly #attempt = new Map<string, { store: GraphStore; version: bigint }>();

  /** `maxGraphs` and `maxBytes` bound the memos kept (see memo-shelf.ts). */
  constructor(maxGraphs = 64, maxBytes = DEFAULT_MEMO_BYTES) {
    this.#held = new MemoShelf(maxGraphs, maxBytes);
  }

  /** Call at the start of every transaction attempt. */
  begin(): void {
    for (const [key, { store }] of this.#attempt) {
      store.memo.retire();
      this.#held.delete(key);
    }
    this.#attempt.clear();
  }

  /** The store of graph `graph` for this attempt, with the kept memo when it is still valid. */
  async store(tx: Transaction, graph: Subspace, vectors: Subspace, distance: Distance, dim: number): Promise<GraphStore> {
    const key = keyspaceOf(tx) + graphId(graph); // the same graph keys in another tenant name another graph
    const used = this.#attempt.get(key);
    if (used !== undefined) return used.store;
    const version = await graphVersion(tx, graph);
    const held = this.#held.get(key);
    const valid = held !== undefined && held.version === version;
    if (held !== undefined && !valid) this.#held.delete(key);
    const store = new GraphStore(tx, graph, vectors, valid ? held.memo : new GraphMemo(distance, dim));
    this.#attempt.set(key, { store, version });
    return store;
  }

  /** Write what this attempt's stores hold back (before the transaction commits). */
  async flush(): Promise<void> {
    for (const { store } of this.#attempt.values()) await settle(store);
  }

  /** The attempt committed: keep its memos, each at its graph's new version. */
  committed(): void {
    for (const [key, { store, version }] of this.#attempt) this.#held.set(key, { memo: store.memo, version: store.changed ? version + 1n : version });
    this.#attempt.clear();
  }
}
