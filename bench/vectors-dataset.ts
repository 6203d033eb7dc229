import { parseFilter, type Filter } from '../layers/record/index.js';
import { exactNeighbours, type VectorSet } from './vectors-data.js';
import { buildHnswlib, type GraphParams } from './vectors-hnswlib.js';
import { LanceStore } from './vectors-lance.js';
import { K, LOW_SELECTIVITY_RECALL_TARGET, cheapestReaching, elapsedMs, measureOnce, peakRssGrowth, rate, sweep, type Search, type Setting } from './vectors-measure.js';
import { StrataStore } from './vectors-strata.js';

/**
 * One dataset, the same way for MNIST and the synthetic set: hnswlib-node, Strata and LanceDB each
 * index its points and answer its held-out queries, one engine at a time in this process. Strata's
 * collection also carries a keyword field of `groups` values (assigned round-robin, so unrelated
 * to where a point lies) for the low-selectivity filtered search on the same graph.
 */

export interface DatasetOptions {
  /** Strata's `hnsw_ef` settings. */
  readonly efs: readonly number[];
  /**
   * hnswlib's, a finer grid holding `efs`: it is cheap to sweep, and its cheapest setting reaching
   * Strata's recall is then found closely rather than rounded up to the next of `efs`.
   */
  readonly baselineEfs: readonly number[];
  readonly graph: GraphParams;
  /** Values of the non-tenant keyword field (100: each matches 1% of the points). */
  readonly groups: number;
  /** Queries timed with Strata's exact search (slow: a subset, for scale). */
  readonly exactQueries: number;
  /** Queries with the 1% filter (a subset: walking the graph through 99% rejects is slow). */
  readonly lowSelectivityQueries: number;
  /** Queries timed with LanceDB's default (exact) search. */
  readonly lanceQueries: number;
}

/** Build rate (points/s), peak RSS growth while building (MB) and the queries' settings. */
export interface EngineResult {
  readonly buildPps: number;
  readonly peakMb: number;
  readonly settings: readonly Setting[];
}

export interface DatasetResult {
  readonly set: VectorSet;
  readonly hnswlib: EngineResult;
  readonly strata: EngineResult & { readonly ingestPps: number; readonly exactQps: number };
  /** LanceDB without a vector index: one setting (exact scan). */
  readonly lance: EngineResult;
  /** Strata's graph search filtered to one group (1%), cheapest ef reaching the low-selectivity target; its exact search's q/s. */
  readonly lowSelectivity: { readonly setting: Setting; readonly exactQps: number };
}

const COLLECTION = 'v';
const groupOf = (id: number, groups: number) => `g${id % groups}`;

export async function runDataset(set: VectorSet, options: DatasetOptions): Promise<DatasetResult> {
  const truth = set.queries.map(q => exactNeighbours(set.points, q, K));
  const hnswlib = await runHnswlib(set, truth, options);
  const strata = await runStrata(set, truth, options);
  const lance = await runLance(set, truth, options);
  return { set, hnswlib, strata: strata.engine, lance, lowSelectivity: strata.lowSelectivity };
}

async function runHnswlib(set: VectorSet, truth: readonly number[][], options: DatasetOptions): Promise<EngineResult> {
  const { value: built, peakMb } = await peakRssGrowth(sample => buildHnswlib(set.points, set.queries, options.graph, sample));
  return { buildPps: rate(set.points.length, built.ms), peakMb, settings: await sweep(options.baselineEfs, truth, built.search) };
}

async function runStrata(set: VectorSet, truth: readonly number[][], options: DatasetOptions): Promise<{ engine: DatasetResult['strata']; lowSelectivity: DatasetResult['lowSelectivity'] }> {
  const store = await StrataStore.open();
  try {
    await store.createCollection(
      COLLECTION,
      // full_scan_threshold 0: the graph answers every search, however few points a filter keeps.
      { vectors: { size: set.dim, distance: 'Euclid' }, hnsw_config: { m: options.graph.m, ef_construct: options.graph.efConstruction, full_scan_threshold: 0 } },
      { group: 'keyword' },
    );
    const points = set.points.map((vector, id) => ({ id, vector, payload: { group: groupOf(id, options.groups) } }));
    const ingestPps = rate(set.points.length, await elapsedMs(() => store.upsert(COLLECTION, points)));
    const { peakMb, ms } = await peakRssGrowth(() => store.linkAll());
    const buildPps = rate(set.points.length, ms);

    const search: Search = (q, ef) => store.search(COLLECTION, set.queries[q] as Float32Array, { ef });
    const settings = await sweep(options.efs, truth, search);
    const exactQps = (await measureOnce(truth.slice(0, options.exactQueries), q => store.search(COLLECTION, set.queries[q] as Float32Array, { exact: true }))).qps;
    return { engine: { buildPps, ingestPps, peakMb, settings, exactQps }, lowSelectivity: await lowSelectivity(store, set, options) };
  } finally {
    await store.close();
  }
}

/** Queries filtered to one group each (query `q` to group q mod groups), through the graph and exactly. */
async function lowSelectivity(store: StrataStore, set: VectorSet, options: DatasetOptions): Promise<DatasetResult['lowSelectivity']> {
  const members = Array.from({ length: options.groups }, () => [] as number[]);
  for (let id = 0; id < set.points.length; id++) members[id % options.groups]?.push(id);
  const queries = set.queries.slice(0, options.lowSelectivityQueries);
  const truth = queries.map((query, q) => exactNeighbours(set.points, query, K, members[q % options.groups]));
  // Parsed once, as a server parses a request's filter once.
  const filters = queries.map((_, q) => parseFilter({ must: [{ key: 'group', match: { value: groupOf(q, options.groups) } }] }));
  const search = (exact: boolean): Search => (q, ef) => store.search(COLLECTION, queries[q] as Float32Array, { ef, exact, filter: filters[q] as Filter });
  const setting = cheapestReaching(await sweep(options.efs, truth, search(false)), LOW_SELECTIVITY_RECALL_TARGET);
  const exactQps = (await measureOnce(truth, search(true))).qps;
  return { setting, exactQps };
}

async function runLance(set: VectorSet, truth: readonly number[][], options: DatasetOptions): Promise<EngineResult> {
  const store = await LanceStore.open();
  try {
    const { value: ms, peakMb } = await peakRssGrowth(() => store.createTable(COLLECTION, set.points.map((vector, id) => ({ id, vector }))));
    const setting = await measureOnce(truth.slice(0, options.lanceQueries), q => store.search(COLLECTION, set.queries[q] as Float32Array));
    return { buildPps: rate(set.points.length, ms), peakMb, settings: [setting] };
  } finally {
    await store.close();
  }
}
