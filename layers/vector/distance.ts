/**
 * Distance functions for dense vectors, matching Qdrant's semantics so that Strata reports the
 * same scores, in the same order, with the same `score_threshold` behaviour.
 *
 * Sources (qdrant/qdrant at 74f3e85b9473c62560006c043e13737ce6b48412):
 * - `lib/segment/src/types.rs`: `enum Distance`, `postprocess_score`, `preprocess_vector`,
 *   `distance_order`, `check_threshold`.
 * - `lib/segment/src/spaces/simple.rs`: the metrics (`similarity`, `preprocess`, `postprocess`)
 *   and `cosine_preprocess`.
 * - `lib/segment/src/spaces/tools.rs`: `is_length_zero_or_normalized`.
 * - `lib/segment/src/segment/entry.rs` (`upsert_point` preprocesses stored vectors) and
 *   `lib/segment/src/vector_storage/query_scorer/metric_query_scorer.rs` (`MetricQueryScorer::new`
 *   preprocesses the query with the same metric).
 * - `lib/collection/src/shards/local_shard/search.rs`: scores are post-processed, then
 *   `score_threshold` is applied to the post-processed score with `check_threshold`.
 *
 * Qdrant ranks internally by a "similarity" where larger is always better (Euclid and Manhattan
 * are negated there), then converts it for display (`postprocess`). Strata computes the displayed
 * value directly and orders by `higherIsBetter`, which ranks identically because `postprocess` is
 * monotone on each metric's range.
 *
 * The kernels read `Float32Array`s, accumulate in doubles and allocate nothing, so an exact scan
 * and, later, the HNSW index can call them in their inner loops.
 */

/** The distance names Qdrant accepts in a collection's vector params (`Distance` in `types.rs`). */
export const DISTANCES = ['Cosine', 'Dot', 'Euclid', 'Manhattan'] as const;

/** One of {@link DISTANCES}. */
export type Distance = (typeof DISTANCES)[number];

// f32::EPSILON (2^-23). Qdrant compares the *squared* length in f32 against it; see normalize().
const F32_EPSILON = 2 ** -23;
// Tolerance of Qdrant's `is_length_zero_or_normalized` for "already unit length".
const NORMALIZED_TOLERANCE = 1.0e-6;

function checkSameLength(a: Float32Array, b: Float32Array): void {
  // Reading past the end of a typed array yields undefined, which would silently become NaN.
  if (a.length !== b.length) {
    throw new RangeError(`vector lengths differ: ${a.length} and ${b.length}`);
  }
}

/**
 * The dot product `Σ a[i]·b[i]`: Qdrant's `Dot` score, and its `Cosine` score once both vectors
 * are normalized (`CosineMetric::similarity` is `DotProductMetric::similarity`).
 * Throws `RangeError` when the lengths differ.
 */
export function dotProduct(a: Float32Array, b: Float32Array): number {
  checkSameLength(a, b);
  const n = a.length;
  const end4 = n - (n % 4);
  // Four independent accumulators break the add-latency chain so the loop is throughput-bound.
  let s0 = 0;
  let s1 = 0;
  let s2 = 0;
  let s3 = 0;
  let i = 0;
  for (; i < end4; i += 4) {
    s0 += a[i]! * b[i]!;
    s1 += a[i + 1]! * b[i + 1]!;
    s2 += a[i + 2]! * b[i + 2]!;
    s3 += a[i + 3]! * b[i + 3]!;
  }
  for (; i < n; i++) s0 += a[i]! * b[i]!;
  return s0 + s1 + (s2 + s3);
}

/**
 * The squared Euclidean distance `Σ (a[i]−b[i])²`. Qdrant ranks Euclid by this (negated) and only
 * takes the square root for display, so an index can compare with it and skip the `sqrt`.
 * Throws `RangeError` when the lengths differ.
 */
export function squaredEuclidean(a: Float32Array, b: Float32Array): number {
  checkSameLength(a, b);
  const n = a.length;
  const end4 = n - (n % 4);
  let s0 = 0;
  let s1 = 0;
  let s2 = 0;
  let s3 = 0;
  let i = 0;
  for (; i < end4; i += 4) {
    const d0 = a[i]! - b[i]!;
    const d1 = a[i + 1]! - b[i + 1]!;
    const d2 = a[i + 2]! - b[i + 2]!;
    const d3 = a[i + 3]! - b[i + 3]!;
    s0 += d0 * d0;
    s1 += d1 * d1;
    s2 += d2 * d2;
    s3 += d3 * d3;
  }
  for (; i < n; i++) {
    const d = a[i]! - b[i]!;
    s0 += d * d;
  }
  return s0 + s1 + (s2 + s3);
}

/**
 * The Manhattan (L1) distance `Σ |a[i]−b[i]|`: Qdrant's displayed `Manhattan` score.
 * Throws `RangeError` when the lengths differ.
 */
export function manhattanDistance(a: Float32Array, b: Float32Array): number {
  checkSameLength(a, b);
  const n = a.length;
  const end4 = n - (n % 4);
  let s0 = 0;
  let s1 = 0;
  let s2 = 0;
  let s3 = 0;
  let i = 0;
  for (; i < end4; i += 4) {
    s0 += Math.abs(a[i]! - b[i]!);
    s1 += Math.abs(a[i + 1]! - b[i + 1]!);
    s2 += Math.abs(a[i + 2]! - b[i + 2]!);
    s3 += Math.abs(a[i + 3]! - b[i + 3]!);
  }
  for (; i < n; i++) s0 += Math.abs(a[i]! - b[i]!);
  return s0 + s1 + (s2 + s3);
}

/**
 * Scales `v` to unit length, as Qdrant's `cosine_preprocess` does for Cosine collections, and
 * returns a new array (the caller's is never modified, even when no scaling is needed).
 *
 * Like Qdrant (`is_length_zero_or_normalized` in `spaces/tools.rs`, applied to the *squared*
 * length): a vector whose squared length is below f32 epsilon (2^-23), including the zero
 * vector, is returned unchanged rather than divided by zero, so it scores 0 against everything;
 * and a vector whose squared length is within 1e-6 of 1 is returned unchanged so that
 * re-normalizing is stable.
 *
 * @example normalize(new Float32Array([3, 4])) // Float32Array [0.6, 0.8]
 */
export function normalize(v: Float32Array): Float32Array {
  const out = new Float32Array(v);
  let sumSq = 0;
  for (let i = 0; i < v.length; i++) {
    const x = v[i]!;
    sumSq += x * x;
  }
  // Qdrant's length is an f32; round ours to f32 so the two thresholds and the divisor agree.
  const lengthSq = Math.fround(sumSq);
  if (lengthSq < F32_EPSILON || Math.abs(lengthSq - 1) <= NORMALIZED_TOLERANCE) return out;
  // f32 division of f32 operands equals double division rounded to f32 (the store rounds), so
  // using an f32 divisor reproduces Qdrant's `x / length` element for element.
  const length = Math.fround(Math.sqrt(lengthSq));
  for (let i = 0; i < out.length; i++) out[i] = out[i]! / length;
  return out;
}

/**
 * Prepares a vector for `distance`, both when it is stored (upsert) and when it is a query: Qdrant
 * runs the same `Distance::preprocess_vector` on both, which normalizes for Cosine and leaves the
 * others alone. Always returns a new array.
 */
export function preprocess(distance: Distance, v: Float32Array): Float32Array {
  return distance === 'Cosine' ? normalize(v) : new Float32Array(v);
}

/**
 * The score Qdrant reports for `a` against `b` (both already passed through {@link preprocess}):
 * - Cosine: dot product of the normalized vectors (cosine similarity, in [-1, 1]);
 * - Dot: dot product;
 * - Euclid: Euclidean distance, `sqrt(Σ (a[i]−b[i])²)` (Qdrant's `EuclidMetric::postprocess` is
 *   `score.abs().sqrt()` on the negated squared distance);
 * - Manhattan: `Σ |a[i]−b[i]|` (`ManhattanMetric::postprocess` is `score.abs()`).
 *
 * The value is a double; Qdrant computes and serializes an f32, so the two agree to about 1e-7
 * relative, not bit for bit. Throws `RangeError` when the lengths differ.
 */
export function score(distance: Distance, a: Float32Array, b: Float32Array): number {
  switch (distance) {
    case 'Cosine':
    case 'Dot':
      return dotProduct(a, b);
    case 'Euclid':
      return Math.sqrt(squaredEuclidean(a, b));
    case 'Manhattan':
      return manhattanDistance(a, b);
    default:
      return unknownDistance(distance);
  }
}

/**
 * Whether a larger score means a closer match: true for Cosine and Dot, false for the distances
 * Euclid and Manhattan (Qdrant's `distance_order`: `LargeBetter` / `SmallBetter`).
 */
export function higherIsBetter(distance: Distance): boolean {
  switch (distance) {
    case 'Cosine':
    case 'Dot':
      return true;
    case 'Euclid':
    case 'Manhattan':
      return false;
    default:
      return unknownDistance(distance);
  }
}

/**
 * Whether a reported score passes a request's `score_threshold`, as Qdrant's `check_threshold`
 * decides after post-processing: for Cosine and Dot the threshold is a strict lower bound
 * (`score > threshold`); for Euclid and Manhattan it is a strict upper bound on the distance
 * (`score < threshold`). A score equal to the threshold is excluded either way.
 */
export function passesThreshold(distance: Distance, score: number, threshold: number): boolean {
  return higherIsBetter(distance) ? score > threshold : score < threshold;
}

function unknownDistance(distance: never): never {
  // Reachable only from untyped callers; a wrong name is a programming error, not bad data.
  throw new TypeError(`unknown distance: ${String(distance)}`);
}
