/**
 * Bounded best-k selection for vector search: keeps the `k` best of a stream of scored items in
 * O(n log k) time and O(k) memory, so an exact scan never sorts or holds every candidate.
 */

/** One selected item with its score. */
export interface Scored<T> {
  readonly score: number;
  readonly item: T;
}

/**
 * Keeps the best `k` items pushed so far, where "best" is the higher score when `higherIsBetter`
 * (Cosine, Dot) and the lower score otherwise (Euclid, Manhattan). Equal scores are ordered by
 * the caller's sequence number, lower first, so results do not depend on push order or on the
 * heap's internal layout: the same candidates always give the same page.
 *
 * For a page with `limit` and `offset`, select `limit + offset` and drop the first `offset`.
 *
 * @example
 * const top = new TopK<string>(limit + offset, higherIsBetter('Cosine'));
 * for (const [seq, p] of points.entries()) top.push(score('Cosine', query, p.vector), p.id, seq);
 * const page = top.results().slice(offset);
 */
export class TopK<T> {
  /** How many items are kept at most. */
  readonly k: number;
  readonly #higherIsBetter: boolean;
  // A binary heap in three parallel arrays (no object per push) with the *worst* kept item at the
  // root, so a candidate is rejected with one comparison once the heap is full. Keys are scores
  // negated when lower is better, so one "higher key wins" comparison serves every distance;
  // negation is exact, so negating back restores the score bit for bit.
  readonly #keys: number[] = [];
  readonly #seqs: number[] = [];
  readonly #items: T[] = [];

  /**
   * @param k how many items to keep: a non-negative safe integer (`RangeError` otherwise).
   * @param higherIsBetter whether a larger score is a better match (see `higherIsBetter()`).
   */
  constructor(k: number, higherIsBetter: boolean) {
    if (!Number.isSafeInteger(k) || k < 0) {
      throw new RangeError(`k must be a non-negative safe integer, got ${k}`);
    }
    this.k = k;
    this.#higherIsBetter = higherIsBetter;
  }

  /** How many items are currently kept (at most `k`). */
  get size(): number {
    return this.#keys.length;
  }

  /**
   * Offers an item. `seq` breaks ties between equal scores (lower wins) and should be unique per
   * item, e.g. the candidate's position in the scan. A `NaN` score throws `RangeError`: it has no
   * place in the order, and letting it in would corrupt the heap.
   */
  push(score: number, item: T, seq: number): void {
    if (Number.isNaN(score)) throw new RangeError('score is NaN');
    if (Number.isNaN(seq)) throw new RangeError('seq is NaN');
    const key = this.#higherIsBetter ? score : -score;
    const keys = this.#keys;
    const size = keys.length;
    if (size < this.k) {
      keys.push(key);
      this.#seqs.push(seq);
      this.#items.push(item);
      this.#siftUp(size);
      return;
    }
    // Full (or k = 0): only a candidate better than the current worst gets in, replacing it.
    if (size === 0 || !better(key, seq, keys[0]!, this.#seqs[0]!)) return;
    keys[0] = key;
    this.#seqs[0] = seq;
    this.#items[0] = item;
    this.#siftDown(0);
  }

  /** The kept items, best first; does not disturb the selection, so pushing may continue. */
  results(): Array<Scored<T>> {
    const keys = this.#keys;
    const seqs = this.#seqs;
    const order = keys.map((_, i) => i);
    order.sort((i, j) => {
      const ki = keys[i]!;
      const kj = keys[j]!;
      if (ki !== kj) return ki > kj ? -1 : 1;
      // Compare rather than subtract: Infinity - Infinity would be NaN.
      const si = seqs[i]!;
      const sj = seqs[j]!;
      return si < sj ? -1 : si > sj ? 1 : 0;
    });
    return order.map((i) => ({
      score: this.#higherIsBetter ? keys[i]! : -keys[i]!,
      item: this.#items[i]!,
    }));
  }

  #siftUp(start: number): void {
    const keys = this.#keys;
    const seqs = this.#seqs;
    const items = this.#items;
    const key = keys[start]!;
    const seq = seqs[start]!;
    const item = items[start]!;
    let i = start;
    // Move the hole up while the parent is better than the new item (worst stays at the root).
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!better(keys[parent]!, seqs[parent]!, key, seq)) break;
      keys[i] = keys[parent]!;
      seqs[i] = seqs[parent]!;
      items[i] = items[parent]!;
      i = parent;
    }
    keys[i] = key;
    seqs[i] = seq;
    items[i] = item;
  }

  #siftDown(start: number): void {
    const keys = this.#keys;
    const seqs = this.#seqs;
    const items = this.#items;
    const size = keys.length;
    const key = keys[start]!;
    const seq = seqs[start]!;
    const item = items[start]!;
    let i = start;
    for (;;) {
      const left = 2 * i + 1;
      if (left >= size) break;
      const right = left + 1;
      // Follow the worse child: it must end up above the better one.
      let child = left;
      if (right < size && better(keys[left]!, seqs[left]!, keys[right]!, seqs[right]!)) child = right;
      if (!better(key, seq, keys[child]!, seqs[child]!)) break;
      keys[i] = keys[child]!;
      seqs[i] = seqs[child]!;
      items[i] = items[child]!;
      i = child;
    }
    keys[i] = key;
    seqs[i] = seq;
    items[i] = item;
  }
}

/** Whether (keyA, seqA) ranks strictly before (keyB, seqB): higher key, then lower seq. */
function better(keyA: number, seqA: number, keyB: number, seqB: number): boolean {
  return keyA > keyB || (keyA === keyB && seqA < seqB);
}
