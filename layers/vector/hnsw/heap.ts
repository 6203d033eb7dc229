/**
 * A binary heap of (distance, node handle) pairs, smallest distance on top; a max-heap by negating.
 * Kept in parallel arrays of numbers, so a search step allocates nothing per candidate.
 */
export class DistanceHeap {
  readonly #d: number[] = [];
  readonly #n: number[] = [];
  readonly #sign: 1 | -1;

  /** `max` puts the largest distance on top instead. */
  constructor(max = false) {
    this.#sign = max ? -1 : 1;
  }

  get size(): number {
    return this.#d.length;
  }

  /** The top distance (the smallest, or the largest for a max-heap); ±Infinity when empty. */
  peekDistance(): number {
    return this.#d.length === 0 ? this.#sign * Number.POSITIVE_INFINITY : this.#sign * (this.#d[0] as number);
  }

  /** The top node (only when not empty). */
  peekNode(): number {
    return this.#n[0] as number;
  }

  push(distance: number, node: number): void {
    const d = this.#d;
    const n = this.#n;
    const key = this.#sign * distance;
    let i = d.length;
    d.push(key);
    n.push(node);
    while (i > 0) {
      const parent = (i - 1) >> 1;
      const pd = d[parent] as number;
      if (pd <= key) break;
      d[i] = pd;
      n[i] = n[parent] as number;
      i = parent;
    }
    d[i] = key;
    n[i] = node;
  }

  /** Remove the top pair (read it first with `peekDistance` and `peekNode`). */
  pop(): void {
    const d = this.#d;
    const n = this.#n;
    const lastD = d.pop() as number;
    const lastN = n.pop() as number;
    const size = d.length;
    if (size === 0) return;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= size) break;
      const r = l + 1;
      const c = r < size && (d[r] as number) < (d[l] as number) ? r : l;
      if ((d[c] as number) >= lastD) break;
      d[i] = d[c] as number;
      n[i] = n[c] as number;
      i = c;
    }
    d[i] = lastD;
    n[i] = lastN;
  }

  /** Empty the heap into a list, closest first (a max-heap pops the farthest first: filled from the end). */
  drain(): { node: number; distance: number }[] {
    const size = this.#d.length;
    const out = new Array<{ node: number; distance: number }>(size);
    for (let i = 0; i < size; i++) {
      const entry = { node: this.#n[0] as number, distance: this.#sign * (this.#d[0] as number) };
      out[this.#sign === 1 ? i : size - 1 - i] = entry;
      this.pop();
    }
    return out;
  }
}
