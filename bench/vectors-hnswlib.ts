import { createRequire } from 'node:module';
import { K, type Search } from './vectors-measure.js';

/**
 * hnswlib-node, the baseline: the C++ hnswlib behind a synchronous N-API binding, which takes
 * plain arrays only (so points and queries are converted before the clock starts).
 */

interface HnswlibModule {
  HierarchicalNSW: new (space: 'l2', dim: number) => {
    initIndex(max: number, m: number, efConstruction: number, seed: number): void;
    addPoint(v: number[], label: number): void;
    setEf(ef: number): void;
    searchKnn(v: number[], k: number): { neighbors: number[] };
  };
}

/** The graph's parameters, the same on every engine. */
export interface GraphParams {
  readonly m: number;
  readonly efConstruction: number;
}

/**
 * Build an 'l2' index of `points` (labels are their indexes); `sample` is called now and then, as
 * the build holds the thread. Returns the build time and a search over `queries`.
 */
export function buildHnswlib(points: readonly Float32Array[], queries: readonly Float32Array[], params: GraphParams, sample: () => void): { ms: number; search: Search } {
  const hnswlib = createRequire(import.meta.url)('hnswlib-node') as HnswlibModule;
  const dim = points[0]?.length ?? 0;
  const rows = points.map(p => Array.from(p));
  const asked = queries.map(q => Array.from(q));
  const index = new hnswlib.HierarchicalNSW('l2', dim);
  const start = performance.now();
  index.initIndex(points.length, params.m, params.efConstruction, 100);
  for (const [i, row] of rows.entries()) {
    index.addPoint(row, i);
    if (i % 512 === 0) sample();
  }
  const ms = performance.now() - start;
  let currentEf = -1;
  const search: Search = (q, ef) => {
    if (ef !== currentEf) index.setEf((currentEf = ef));
    return index.searchKnn(asked[q] as number[], K).neighbors;
  };
  return { ms, search };
}
