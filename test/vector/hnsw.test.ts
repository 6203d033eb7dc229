import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { concatBytes } from '../../src/kv/keys.js';
import { openDatabase } from '../../src/kv/open.js';
import { Subspace } from '../../src/kv/subspace.js';
import { pack } from '../../src/kv/tuple.js';
import type { Database, Transaction } from '../../src/kv/types.js';
import { encodeVector } from '../../layers/record/codec.js';
import { encodePointId } from '../../layers/record/layout.js';
import { DISTANCES, dotProduct, manhattanDistance, preprocess, squaredEuclidean, type Distance } from '../../layers/vector/distance.js';
import { deleteNode } from '../../layers/vector/hnsw/delete.js';
import { GraphStore, nodeOf, type HnswParams } from '../../layers/vector/hnsw/graph.js';
import { GraphMemo } from '../../layers/vector/hnsw/memo.js';
import { insertNode, settle } from '../../layers/vector/hnsw/insert.js';
import { searchGraph } from '../../layers/vector/hnsw/search.js';
import { seeded } from '../helpers/random.js';
import { tempDir } from '../helpers/tmp.js';

/**
 * The HNSW graph stored in the key-value layer: recall@10 against exact search on seeded clustered
 * data for every distance, with a filter, after deletes, and after the store is closed and opened.
 */

const DIM = 16;
const N = 1200;
const PARAMS: HnswParams = { m: 16, efConstruct: 100 };


function clustered(n: number, seed: number): Float32Array[] {
  const rand = seeded(seed);
  const centres = Array.from({ length: 12 }, () => Float32Array.from({ length: DIM }, () => rand() * 10 - 5));
  return Array.from({ length: n }, () => {
    const c = centres[Math.floor(rand() * centres.length)] as Float32Array;
    return Float32Array.from(c, x => x + (rand() - 0.5) * 2);
  });
}

const node = (i: number) => nodeOf(encodePointId(i));

/** The ground truth's ranking, in plain JavaScript (lower is closer). */
function rankDistance(d: Distance): (a: Float32Array, b: Float32Array) => number {
  if (d === 'Euclid') return squaredEuclidean;
  if (d === 'Manhattan') return manhattanDistance;
  return (a, b) => -dotProduct(a, b);
}

/** Points and held-out queries from the same clusters (queries as a user's would be: like the data). */
function dataset(d: Distance): { points: Float32Array[]; queries: Float32Array[] } {
  const all = clustered(N + 40, 7).map(v => preprocess(d, v));
  return { points: all.slice(0, N), queries: all.slice(N) };
}

describe('HNSW in the key-value layer', () => {
  let db: Database;
  let remove: () => Promise<void>;
  let dir: string;

  beforeAll(async () => {
    ({ dir, remove } = await tempDir('strata-hnsw'));
    db = await openDatabase({ dataDir: dir });
  });
  afterAll(async () => {
    await db.close();
    await remove();
  });

  const spaces = (d: Distance) => ({ graph: new Subspace(pack(['g', d])), vectors: new Subspace(pack(['v', d])) });

  async function build(d: Distance, points: Float32Array[]): Promise<void> {
    const { graph, vectors } = spaces(d);
    for (let i = 0; i < points.length; i += 50) {
      await db.transact(async (tx: Transaction) => {
        const store = new GraphStore(tx, graph, vectors, new GraphMemo(d, DIM));
        for (let j = i; j < Math.min(points.length, i + 50); j++) {
          const v = points[j] as Float32Array;
          tx.set(concatBytes(vectors.prefix, encodePointId(j)), encodeVector(v));
          await insertNode(store, PARAMS, node(j), v);
        }
        await settle(store);
      });
    }
  }

  async function recall(d: Distance, points: Float32Array[], queries: Float32Array[], alive: (i: number) => boolean, ef: number): Promise<number> {
    const { graph, vectors } = spaces(d);
    const rank = rankDistance(d);
    let hits = 0;
    let total = 0;
    for (const q of queries) {
      const exact = points
        .map((v, i) => ({ i, d: rank(q, v) }))
        .filter(p => alive(p.i))
        .sort((a, b) => a.d - b.d)
        .slice(0, 10)
        .map(p => node(p.i));
      const found = await db.transact(tx => searchGraph(new GraphStore(tx, graph, vectors, new GraphMemo(d, DIM)), q, 10, ef, async nodes => nodes.map(n => aliveNode(n, alive))));
      for (const f of found) expect(aliveNode(f.node, alive)).toBe(true);
      hits += found.filter(f => exact.includes(f.node)).length;
      total += exact.length;
    }
    return hits / total;
  }

  const index = new Map(Array.from({ length: N }, (_, i) => [node(i), i]));
  const aliveNode = (n: string, alive: (i: number) => boolean) => alive(index.get(n) as number);

  for (const d of DISTANCES) {
    it(`finds the exact top 10 at recall ≥ 0.95 (${d}), with a 10% filter, after deletes`, async () => {
      const { points, queries } = dataset(d);
      await build(d, points);
      expect(await recall(d, points, queries, () => true, 64)).toBeGreaterThanOrEqual(0.95);
      // A 10% filter walks through rejected nodes. Dot is no metric: links favour large vectors, so
      // small ones are hard to reach once a filter excludes the large (Qdrant's graph shares this);
      // measured 0.815 here, against 0.95 and more for the metrics. Partitions (issue 6) address it.
      expect(await recall(d, points, queries, i => i % 10 === 3, 128)).toBeGreaterThanOrEqual(d === 'Dot' ? 0.8 : 0.9);
      // Delete a quarter of the points: they are never returned, and recall holds.
      const { graph, vectors } = spaces(d);
      const deleted = new Set(Array.from({ length: N }, (_, i) => i).filter(i => i % 4 === 1));
      const gone = [...deleted];
      for (let i = 0; i < gone.length; i += 50) {
        await db.transact(async tx => {
          const store = new GraphStore(tx, graph, vectors, new GraphMemo(d, DIM));
          for (const j of gone.slice(i, i + 50)) {
            await deleteNode(store, PARAMS, node(j));
            tx.clear(concatBytes(vectors.prefix, encodePointId(j)));
          }
          await settle(store);
        });
      }
      expect(await recall(d, points, queries, i => !deleted.has(i), 64)).toBeGreaterThanOrEqual(0.93);
    }, 120_000);
  }

  it('keeps the graph across a restart, without a rebuild', async () => {
    const { points, queries } = dataset('Euclid');
    const before = await recall('Euclid', points, queries, i => i % 4 !== 1, 64);
    await db.close();
    db = await openDatabase({ dataDir: dir });
    expect(await recall('Euclid', points, queries, i => i % 4 !== 1, 64)).toBe(before);
  });
});
