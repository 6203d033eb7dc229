import { mkdtemp, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDatabase } from '../src/kv/open.js';
import type { Transaction } from '../src/kv/types.js';
import { createTenant } from '../src/tenancy/registry.js';
import { TenantTransaction } from '../src/tenancy/scoped.js';
import { createCollection, requireCollection } from '../layers/record/collections.js';
import { parseUpsertPoints } from '../layers/record/parse-points.js';
import { upsertPoints } from '../layers/record/points-write.js';
import { exactSearch } from '../layers/vector/exact.js';
import { VectorCache } from '../layers/vector/cache.js';
import { VectorIndexer } from '../layers/vector/indexer.js';
import { printJson, printTable, type Row } from './report.js';

/**
 * Strata's vector index against hnswlib-node (same M 16, ef_construction 200), single-threaded, in
 * one process, on seeded clustered synthetic vectors with held-out queries: recall@10 and queries/s
 * at several `hnsw_ef`, and the index build rate. (First version: MNIST, LanceDB and the filtered
 * figures of the vector-index issue are still to come.)
 */

const DIM = 128;
const M = 16;
const EF_CONSTRUCTION = 200;
const EFS = [16, 32, 64, 128];

interface Hnswlib {
  HierarchicalNSW: new (space: 'l2', dim: number) => {
    initIndex(max: number, m: number, efConstruction: number, seed: number): void;
    addPoint(v: number[], label: number): void;
    setEf(ef: number): void;
    searchKnn(v: number[], k: number): { neighbors: number[] };
  };
}

function clustered(n: number, seed: number): number[][] {
  let s = seed;
  const rand = () => (s = (s * 1103515245 + 12345) % 2147483648) / 2147483648;
  const centres = Array.from({ length: 50 }, () => Array.from({ length: DIM }, () => rand() * 4 - 2));
  return Array.from({ length: n }, () => (centres[Math.floor(rand() * centres.length)] as number[]).map(x => x + (rand() - 0.5)));
}

export async function benchVectors(quick: boolean): Promise<void> {
  const n = quick ? 3_000 : 20_000;
  const queryCount = quick ? 100 : 200;
  const all = clustered(n + queryCount, 42);
  const data = all.slice(0, n);
  const queries = all.slice(n);
  // Ground truth: exact top 10 by squared Euclidean distance.
  const truth = queries.map(q =>
    data
      .map((v, i) => ({ i, d: v.reduce((acc, x, j) => acc + (x - (q[j] as number)) ** 2, 0) }))
      .sort((a, b) => a.d - b.d)
      .slice(0, 10)
      .map(p => p.i),
  );
  const recallOf = (results: number[][]) => results.reduce((acc, r, qi) => acc + r.filter(id => (truth[qi] as number[]).includes(id)).length, 0) / (queries.length * 10);

  // hnswlib-node.
  const hnswlib = createRequire(import.meta.url)('hnswlib-node') as Hnswlib;
  const index = new hnswlib.HierarchicalNSW('l2', DIM);
  index.initIndex(n, M, EF_CONSTRUCTION, 100);
  let start = performance.now();
  for (const [i, v] of data.entries()) index.addPoint(v, i);
  const hnswBuild = (n * 1000) / (performance.now() - start);
  const hnsw = EFS.map(ef => {
    index.setEf(ef);
    const t = performance.now();
    const results = queries.map(q => index.searchKnn(q, 10).neighbors);
    return { ef, qps: (queries.length * 1000) / (performance.now() - t), recall: recallOf(results) };
  });

  // Strata: points loaded through the record layer, then linked by the background indexer.
  const dir = await mkdtemp(join(tmpdir(), 'bench-vectors-'));
  const db = await openDatabase({ dataDir: dir });
  try {
    const prefix = (await db.transact(tx => createTenant(tx, 'bench'))).prefix;
    const inTenant = <T>(fn: (tx: Transaction) => Promise<T>) => db.transact(tx => fn(new TenantTransaction(tx, prefix)));
    await inTenant(tx => createCollection(tx, 'v', { vectors: { size: DIM, distance: 'Euclid' }, hnsw_config: { m: M, ef_construct: EF_CONSTRUCTION, full_scan_threshold: 0 } }));
    for (let i = 0; i < n; i += 256) {
      await inTenant(async tx => {
        const c = await requireCollection(tx, 'v');
        await upsertPoints(tx, c, parseUpsertPoints(c.config, { points: data.slice(i, i + 256).map((vector, j) => ({ id: i + j, vector })) }));
      });
    }
    start = performance.now();
    const indexer = new VectorIndexer(db, { batch: 64 });
    while (await indexer.runOnce());
    const strataBuild = (n * 1000) / (performance.now() - start);
    const search = (q: number[], ef: number | undefined, exact = false) =>
      inTenant(async tx => (await exactSearch(tx, await requireCollection(tx, 'v'), { vector: Float32Array.from(q), limit: 10, hnswEf: ef, exact, cache })).map(h => h.id as number));
    const cache = new VectorCache();
    const strata = [];
    for (const ef of EFS) {
      const t = performance.now();
      const results = [];
      for (const q of queries) results.push(await search(q, ef));
      strata.push({ ef, qps: (queries.length * 1000) / (performance.now() - t), recall: recallOf(results) });
    }
    let t = performance.now();
    const exactResults = [];
    for (const q of queries.slice(0, 20)) exactResults.push(await search(q, undefined, true));
    const exactQps = (20 * 1000) / (performance.now() - t);

    // The first setting at recall ≥ 0.95 on each side, compared at Strata's recall.
    const ours = strata.find(s => s.recall >= 0.95) ?? (strata[strata.length - 1] as (typeof strata)[number]);
    const theirs = hnsw.find(h => h.recall >= ours.recall) ?? (hnsw[hnsw.length - 1] as (typeof hnsw)[number]);
    const rows: Row[] = [
      ...strata.map((s, i) => ({ metric: `queries, ef ${s.ef} (recall ${s.recall.toFixed(3)} vs ${(hnsw[i] as { recall: number }).recall.toFixed(3)})`, strata: s.qps, baseline: (hnsw[i] as { qps: number }).qps, unit: 'q/s' })),
      { metric: 'index build', strata: strataBuild, baseline: hnswBuild, unit: 'points/s' },
      { metric: 'exact search (Strata), for scale', strata: exactQps, baseline: ours.qps, unit: 'q/s' },
    ];
    printTable(`vectors: Strata's HNSW vs hnswlib-node, ${n.toLocaleString('en-US')} × ${DIM} clustered${quick ? ' (quick)' : ''}`, 'hnswlib', rows);
    t = 0;
    printJson('vectors', {
      recall: ours.recall,
      qps_ratio: ours.qps / theirs.qps,
      build_ratio: strataBuild / hnswBuild,
      strata_qps: ours.qps,
      strata_ef: ours.ef,
      hnswlib_qps: theirs.qps,
      hnswlib_ef: theirs.ef,
      strata_build_pps: strataBuild,
      hnswlib_build_pps: hnswBuild,
      exact_qps: exactQps,
      points: n,
    });
  } finally {
    await db.close();
    await rm(dir, { recursive: true, force: true });
  }
}
