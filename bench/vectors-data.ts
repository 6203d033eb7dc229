import { createRequire } from 'node:module';

/**
 * The vectors bench's data: MNIST digits (the `mnist` package) and seeded clustered synthetic
 * vectors, each split into indexed points and held-out queries, and exact ground truth computed by
 * a plain loop (independent of every engine measured).
 */

/** Points to index and queries held out from them; a point's id is its index in `points`. */
export interface VectorSet {
  readonly name: string;
  readonly dim: number;
  readonly points: readonly Float32Array[];
  readonly queries: readonly Float32Array[];
}

/**
 * A seeded random source in [0, 1): a linear congruential generator on a 32-bit integer state
 * (`Math.imul`, so every step is exact), read from its high bits. The same seed gives the same data
 * on every run and machine.
 */
export function seededRandom(seed: number): () => number {
  let s = seed >>> 0;
  return () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 4294967296;
}

/**
 * `n` vectors around `clusters` random centres in [-2, 2]^dim, each coordinate offset by up to
 * ±0.5: clusters that are far apart, with points inside each spread in every dimension (the hard
 * case for a graph index, unlike data on a low-dimensional manifold).
 */
export function clusteredVectors(n: number, dim: number, clusters: number, rand: () => number): Float32Array[] {
  const centres = Array.from({ length: clusters }, () => Float32Array.from({ length: dim }, () => rand() * 4 - 2));
  return Array.from({ length: n }, () => {
    const centre = centres[Math.floor(rand() * clusters)] as Float32Array;
    return centre.map(x => x + rand() - 0.5);
  });
}

/** Clustered synthetic points (50 clusters) with `queries` more from the same clusters held out. */
export function syntheticSet(points: number, queries: number, dim: number, seed: number): VectorSet {
  const all = clusteredVectors(points + queries, dim, 50, seededRandom(seed));
  return { name: 'synthetic', dim, points: all.slice(0, points), queries: all.slice(points) };
}

const MNIST_SIDE = 28;

interface MnistDigit {
  /** Every image of the digit, concatenated: 784 grey levels in [0, 1] each. */
  readonly raw: readonly number[];
  readonly length: number;
}

/**
 * The `mnist` package's 10,000 images (784 dimensions) in a seeded shuffled order, so both the
 * indexed points and the held-out queries hold every digit; the package's own sampling uses
 * Math.random, so the images are read from its per-digit arrays instead.
 */
export function mnistSet(points: number, queries: number, seed: number): VectorSet {
  const dim = MNIST_SIDE * MNIST_SIDE;
  const digits = createRequire(import.meta.url)('mnist') as readonly MnistDigit[];
  const images = digits.flatMap(d => Array.from({ length: d.length }, (_, i) => Float32Array.from(d.raw.slice(i * dim, (i + 1) * dim))));
  if (points + queries > images.length) throw new RangeError(`MNIST has ${images.length} images, asked for ${points} + ${queries}`);
  shuffle(images, seededRandom(seed));
  return { name: 'mnist', dim, points: images.slice(0, points), queries: images.slice(points, points + queries) };
}

function shuffle<T>(xs: T[], rand: () => number): void {
  for (let i = xs.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [xs[i], xs[j]] = [xs[j] as T, xs[i] as T];
  }
}

/** The ids of the `k` points nearest `query` by Euclidean distance, nearest first, among `candidates` (default all). */
export function exactNeighbours(points: readonly Float32Array[], query: Float32Array, k: number, candidates?: readonly number[]): number[] {
  const ids: number[] = [];
  const dists: number[] = [];
  const consider = (id: number) => {
    const p = points[id] as Float32Array;
    let d = 0;
    for (let j = 0; j < query.length; j++) {
      const diff = (p[j] as number) - (query[j] as number);
      d += diff * diff;
    }
    if (ids.length === k && d >= (dists[k - 1] as number)) return;
    // Insertion into a short sorted list: k is 10, so this beats a heap.
    let at = Math.min(ids.length, k - 1);
    while (at > 0 && (dists[at - 1] as number) > d) {
      dists[at] = dists[at - 1] as number;
      ids[at] = ids[at - 1] as number;
      at--;
    }
    dists[at] = d;
    ids[at] = id;
  };
  if (candidates === undefined) for (let id = 0; id < points.length; id++) consider(id);
  else for (const id of candidates) consider(id);
  return ids;
}
