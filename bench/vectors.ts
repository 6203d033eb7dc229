import { mnistSet, syntheticSet, type VectorSet } from './vectors-data.js';
import { runDataset, type DatasetResult } from './vectors-dataset.js';
import { runFiltered, type FilteredResult } from './vectors-filtered.js';
import type { GraphParams } from './vectors-hnswlib.js';
import { RECALL_TARGET, cheapestReaching, type Setting } from './vectors-measure.js';
import { printJson, printTable, type Row } from './report.js';

/**
 * Strata's vector index side by side with hnswlib-node (same M and ef_construction), LanceDB 0.21
 * and Strata's own exact search, all through their library APIs in this one process, single-threaded
 * (LanceDB excepted: it runs its own thread pools):
 *  - MNIST (the `mnist` package's 10,000 images; 9,000 indexed, the rest held out as queries) and
 *    seeded clustered synthetic 100,000 × 128: recall@10 and queries/s at several `hnsw_ef`, build
 *    rate, peak memory growth while building. Headline: Strata's cheapest ef with recall@10 ≥ 0.95
 *    against hnswlib's cheapest ef reaching the same recall (`qps_ratio`, with `recall` that setting's
 *    recall), and the build rates (`build_ratio`): each the worse of the two datasets.
 *  - Filtered: 100 tenants × 1,000 points in one collection (`m: 0, payload_m: 16`, an `is_tenant`
 *    index), tenant-pinned queries against Strata's exact search and LanceDB's filtered search; and
 *    a 1%-selectivity keyword filter walked on each dataset's global graph.
 */

interface Sizes {
  readonly mnist: { readonly points: number; readonly queries: number };
  readonly synthetic: { readonly points: number; readonly queries: number };
  readonly filtered: { readonly tenants: number; readonly perTenant: number; readonly queriesPerTenant: number };
  /** Queries timed with Strata's exact search over a whole dataset (slow: for scale). */
  readonly exactQueries: number;
  /** Queries with the 1% filter, on each dataset. */
  readonly lowSelectivityQueries: number;
  /** Queries timed with LanceDB (its unindexed search of a whole dataset is slow). */
  readonly lanceQueries: number;
}

const FULL: Sizes = {
  mnist: { points: 9_000, queries: 1_000 },
  // A few hundred queries: ground truth over 100,000 points then takes seconds.
  synthetic: { points: 100_000, queries: 300 },
  filtered: { tenants: 100, perTenant: 1_000, queriesPerTenant: 3 },
  // Strata's exact search of 100,000 points answers about one query a second.
  exactQueries: 5,
  lowSelectivityQueries: 100,
  lanceQueries: 100,
};

const QUICK: Sizes = {
  mnist: { points: 3_000, queries: 200 },
  synthetic: { points: 10_000, queries: 200 },
  filtered: { tenants: 20, perTenant: 500, queriesPerTenant: 5 },
  exactQueries: 5,
  lowSelectivityQueries: 50,
  lanceQueries: 30,
};

const GRAPH: GraphParams = { m: 16, efConstruction: 200 };
const EFS = [16, 32, 64, 128];
const HNSWLIB_EFS = [10, 12, 14, 16, 20, 24, 32, 40, 48, 64, 96, 128];
const SYNTHETIC_DIM = 128;
/** Values of the low-selectivity field: each matches 1% of the points. */
const GROUPS = 100;

/** Strata's cheapest setting with recall ≥ 0.95 and hnswlib's cheapest reaching the same recall. */
function headline(r: DatasetResult): { ours: Setting; theirs: Setting; qpsRatio: number; buildRatio: number } {
  const ours = cheapestReaching(r.strata.settings, RECALL_TARGET);
  const theirs = cheapestReaching(r.hnswlib.settings, ours.recall);
  return { ours, theirs, qpsRatio: ours.qps / theirs.qps, buildRatio: r.strata.buildPps / r.hnswlib.buildPps };
}

/** Less memory is better, so this row's ratio is the baseline's over Strata's (higher is better, as elsewhere). */
const memoryRow = (strata: number, baseline: number): Row => ({ metric: 'peak RSS growth while building (ratio: baseline/Strata)', strata, baseline, ratio: baseline / strata, unit: 'MB' });

const recallText = (s: Setting) => s.recall.toFixed(3);
const count = (n: number) => n.toLocaleString('en-US');

function printDataset(r: DatasetResult, quick: boolean): void {
  const { set } = r;
  const h = headline(r);
  const lance = r.lance.settings[0] as Setting;
  const title = `vectors: ${set.name}, ${count(set.points.length)} × ${set.dim}, ${count(set.queries.length)} queries${quick ? ' (quick)' : ''}`;
  printTable(`${title}: Strata vs hnswlib-node (M ${GRAPH.m}, ef_construction ${GRAPH.efConstruction})`, 'hnswlib', [
    ...r.strata.settings.map(s => {
      const theirs = r.hnswlib.settings.find(t => t.ef === s.ef) as Setting;
      return { metric: `queries, ef ${s.ef} (recall ${recallText(s)} vs ${recallText(theirs)})`, strata: s.qps, baseline: theirs.qps, unit: 'q/s' };
    }),
    { metric: `headline: ef ${h.ours.ef} vs ef ${h.theirs.ef} (recall ${recallText(h.ours)} vs ${recallText(h.theirs)})`, strata: h.ours.qps, baseline: h.theirs.qps, unit: 'q/s' },
    { metric: 'index build', strata: r.strata.buildPps, baseline: r.hnswlib.buildPps, unit: 'points/s' },
    memoryRow(r.strata.peakMb, r.hnswlib.peakMb),
    { metric: `exact search (Strata) vs headline, for scale`, strata: r.strata.exactQps, baseline: h.theirs.qps, unit: 'q/s' },
  ]);
  printTable(`${title}: Strata vs LanceDB (no vector index: exact search), for scale`, 'lancedb', [
    { metric: `queries (recall ${recallText(h.ours)} vs ${recallText(lance)})`, strata: h.ours.qps, baseline: lance.qps, unit: 'q/s' },
    { metric: 'build (Strata: linking; LanceDB: table)', strata: r.strata.buildPps, baseline: r.lance.buildPps, unit: 'points/s' },
    memoryRow(r.strata.peakMb, r.lance.peakMb),
  ]);
}

function printFiltered(f: FilteredResult, datasets: readonly DatasetResult[], quick: boolean): void {
  const rows: Row[] = [
    { metric: `tenant-pinned vs Strata exact (recall ${recallText(f.strata)}, ef ${f.strata.ef})`, strata: f.strata.qps, baseline: f.exactQps, unit: 'q/s' },
    { metric: `tenant-pinned vs LanceDB (recall ${recallText(f.strata)} vs ${recallText(f.lance)})`, strata: f.strata.qps, baseline: f.lance.qps, unit: 'q/s' },
    { metric: 'build vs LanceDB (table + bitmap index)', strata: f.strataBuildPps, baseline: f.lanceBuildPps, unit: 'points/s' },
    ...datasets.map(d => {
      const s = d.lowSelectivity.setting;
      return { metric: `1% filter on ${d.set.name} vs Strata exact (recall ${recallText(s)}, ef ${s.ef})`, strata: s.qps, baseline: d.lowSelectivity.exactQps, unit: 'q/s' };
    }),
  ];
  printTable(`vectors: filtered, ${count(f.points)} points in one collection, ${quick ? 'quick' : 'full'}`, 'baseline', rows);
}

/** Per-dataset figures, keys prefixed with the dataset's name. */
function datasetFigures(r: DatasetResult): Record<string, number> {
  const h = headline(r);
  const lance = r.lance.settings[0] as Setting;
  const low = r.lowSelectivity;
  const figures = {
    recall: h.ours.recall,
    qps_ratio: h.qpsRatio,
    build_ratio: h.buildRatio,
    strata_ef: h.ours.ef,
    strata_qps: h.ours.qps,
    hnswlib_ef: h.theirs.ef,
    hnswlib_qps: h.theirs.qps,
    hnswlib_recall: h.theirs.recall,
    strata_build_pps: r.strata.buildPps,
    hnswlib_build_pps: r.hnswlib.buildPps,
    lance_build_pps: r.lance.buildPps,
    strata_ingest_pps: r.strata.ingestPps,
    strata_peak_mb: r.strata.peakMb,
    hnswlib_peak_mb: r.hnswlib.peakMb,
    lance_peak_mb: r.lance.peakMb,
    exact_qps: r.strata.exactQps,
    lance_qps: lance.qps,
    lance_recall: lance.recall,
    low_selectivity_recall: low.setting.recall,
    low_selectivity_qps: low.setting.qps,
    low_selectivity_ef: low.setting.ef,
    low_selectivity_exact_qps: low.exactQps,
    points: r.set.points.length,
  };
  return Object.fromEntries(Object.entries(figures).map(([k, v]) => [`${r.set.name}_${k}`, v]));
}

/** The dataset with the lowest `of`: the headline is the worse of the datasets. */
const worst = (rs: readonly DatasetResult[], of: (r: DatasetResult) => number) => rs.reduce((a, b) => (of(b) < of(a) ? b : a));

async function timed<T>(label: string, run: () => Promise<T>): Promise<T> {
  const start = performance.now();
  console.error(`vectors: ${label}…`);
  const value = await run();
  console.error(`vectors: ${label} took ${((performance.now() - start) / 1000).toFixed(1)} s`);
  return value;
}

export async function benchVectors(quick: boolean): Promise<void> {
  if (!EFS.every(ef => HNSWLIB_EFS.includes(ef))) throw new RangeError('every Strata ef must be among hnswlib\'s, so the table can pair them');
  const sizes = quick ? QUICK : FULL;
  const options = { efs: EFS, baselineEfs: HNSWLIB_EFS, graph: GRAPH, groups: GROUPS, exactQueries: sizes.exactQueries, lowSelectivityQueries: sizes.lowSelectivityQueries, lanceQueries: sizes.lanceQueries };
  const sets: (() => VectorSet)[] = [
    () => mnistSet(sizes.mnist.points, sizes.mnist.queries, 1),
    () => syntheticSet(sizes.synthetic.points, sizes.synthetic.queries, SYNTHETIC_DIM, 42),
  ];
  // Each table is printed as soon as its figures are in, so a run cut short still shows some.
  const datasets: DatasetResult[] = [];
  for (const make of sets) {
    const set = make();
    const result = await timed(set.name, () => runDataset(set, options));
    printDataset(result, quick);
    datasets.push(result);
  }
  const filtered = await timed('filtered', () =>
    runFiltered({ ...sizes.filtered, dim: SYNTHETIC_DIM, efs: EFS, payloadM: GRAPH.m, efConstruction: GRAPH.efConstruction, lanceQueries: sizes.lanceQueries }),
  );
  printFiltered(filtered, datasets, quick);
  const qpsLimit = worst(datasets, d => headline(d).qpsRatio);
  const lowLimit = worst(datasets, d => d.lowSelectivity.setting.recall);
  printJson('vectors', {
    recall: headline(qpsLimit).ours.recall,
    qps_ratio: headline(qpsLimit).qpsRatio,
    build_ratio: headline(worst(datasets, d => headline(d).buildRatio)).buildRatio,
    filtered_recall: filtered.strata.recall,
    filtered_speedup: filtered.strata.qps / filtered.exactQps,
    lance_filtered_ratio: filtered.strata.qps / filtered.lance.qps,
    low_selectivity_recall: lowLimit.lowSelectivity.setting.recall,
    ...Object.assign({}, ...datasets.map(datasetFigures)),
    filtered_ef: filtered.strata.ef,
    filtered_qps: filtered.strata.qps,
    filtered_exact_qps: filtered.exactQps,
    lance_filtered_qps: filtered.lance.qps,
    lance_filtered_recall: filtered.lance.recall,
    filtered_build_pps: filtered.strataBuildPps,
    lance_filtered_build_pps: filtered.lanceBuildPps,
    filtered_points: filtered.points,
  });
}
