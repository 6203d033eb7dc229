/**
 * What the vectors bench measures, the same way for every engine: recall@10 and queries/s over a
 * sweep of `hnsw_ef`, a queries/s figure at one setting, and memory growth while building.
 */

/** How many neighbours every query asks for (recall@10). */
export const K = 10;

/** The recall@10 the issue asks of a search through the graph, and of one with a 1%-selectivity filter. */
export const RECALL_TARGET = 0.95;
export const LOW_SELECTIVITY_RECALL_TARGET = 0.9;

/** One query's top K ids; `ef` is the engine's beam (ignored by exact searches). */
export type Search = (query: number, ef: number) => Promise<readonly number[]> | readonly number[];

/** One setting of a sweep. */
export interface Setting {
  readonly ef: number;
  readonly qps: number;
  readonly recall: number;
}

/** The share of the true top K found, over all queries (`truth[i]` answers query `i`). */
export function recallOf(truth: readonly (readonly number[])[], results: readonly (readonly number[])[]): number {
  let found = 0;
  for (const [i, r] of results.entries()) {
    const t = new Set(truth[i]);
    for (const id of r) if (t.has(id)) found++;
  }
  return found / (results.length * K);
}

/**
 * Run queries 0 … `count`-1 one after the other (single-threaded: the next starts when the last
 * returned), in passes until `minMs` have gone by, and time them; the results are the first pass's.
 * Several passes keep a fast engine's figure from resting on a few milliseconds.
 */
export async function runQueries(count: number, ef: number, search: Search, minMs = 0): Promise<{ qps: number; results: (readonly number[])[] }> {
  const results: (readonly number[])[] = [];
  let done = 0;
  const start = performance.now();
  do {
    for (let q = 0; q < count; q++) {
      const result = await search(q, ef);
      if (done++ < count) results.push(result);
    }
  } while (performance.now() - start < minMs);
  return { qps: (done * 1000) / (performance.now() - start), results };
}

/** How long each setting of a sweep is timed at least, and how long a sweep warms up first. */
const SWEEP_MIN_MS = 500;
const WARMUP_MS = 1000;

/**
 * Recall and queries/s at each `ef` over the queries that `truth` answers, after untimed passes at
 * the largest `ef` for at least a second: caches (Strata's VectorCache, the CPU's) and the JIT are
 * then as warm for the first setting as for the last, as in a server that has been answering for a
 * while (one pass was not enough: Strata's first setting then read up to half its later speed).
 */
export async function sweep(efs: readonly number[], truth: readonly (readonly number[])[], search: Search): Promise<Setting[]> {
  await runQueries(truth.length, Math.max(...efs), search, WARMUP_MS);
  const settings: Setting[] = [];
  for (const ef of efs) {
    const { qps, results } = await runQueries(truth.length, ef, search, SWEEP_MIN_MS);
    settings.push({ ef, qps, recall: recallOf(truth, results) });
  }
  return settings;
}

/**
 * Recall and queries/s of a search with no `ef` (an exact scan): slow, so timed in one pass, after
 * one untimed query that loads what a first query would (indexes, the JIT).
 */
export async function measureOnce(truth: readonly (readonly number[])[], search: Search): Promise<Setting> {
  await runQueries(Math.min(truth.length, 1), 0, search);
  const { qps, results } = await runQueries(truth.length, 0, search);
  return { ef: 0, qps, recall: recallOf(truth, results) };
}

/** The cheapest setting (lowest ef) with recall ≥ `recall`; none reaching it: the most accurate. */
export function cheapestReaching(settings: readonly Setting[], recall: number): Setting {
  const best = settings.reduce((a, b) => (b.recall > a.recall ? b : a));
  return settings.find(s => s.recall >= recall) ?? best;
}

const MB = 1024 * 1024;

/**
 * Peak resident-set growth while `build` runs, in MB: the highest RSS seen (sampled every 20 ms,
 * and whenever a synchronous build calls `sample`) minus RSS just before. It is the whole process's
 * memory, so it counts the engine's structures and its transient garbage alike, and for Strata the
 * pages of LMDB's memory map that the build touched. Memory that earlier phases freed but the
 * allocators (V8's heap, malloc) kept is reused without growth, so a later phase can read low,
 * down to 0. A rough comparison in one process, not an accounting.
 */
export async function peakRssGrowth<T>(build: (sample: () => void) => Promise<T> | T): Promise<{ value: T; peakMb: number; ms: number }> {
  const before = process.memoryUsage.rss();
  let peak = before;
  const sample = () => {
    peak = Math.max(peak, process.memoryUsage.rss());
  };
  const timer = setInterval(sample, 20);
  const start = performance.now();
  try {
    const value = await build(sample);
    const ms = performance.now() - start;
    sample();
    return { value, peakMb: (peak - before) / MB, ms };
  } finally {
    clearInterval(timer);
  }
}

/** How long `run` took, in ms. */
export async function elapsedMs(run: () => Promise<unknown>): Promise<number> {
  const start = performance.now();
  await run();
  return performance.now() - start;
}

/** Points per second of a build of `points` that took `ms`. */
export const rate = (points: number, ms: number): number => (points * 1000) / ms;
