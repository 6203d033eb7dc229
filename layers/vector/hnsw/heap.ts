/**
 * A binary heap of (distance, node) pairs, smallest distance on top; `MaxHeap` by negating. Kept in
 * parallel arrays so a search step allocates nothing per candidate.
 */
export class DistanceHeap {
  readonly #d: number[] = [];
  readonly #n: string[] = [];
  readonly #sign: 1 | -1;

  /** `max` puts the largest distance on top instead. */
  constructor(max = false) {
    this.#sign = max ? -1 : 1;
  }

  get size(): number {
    return this.#d.length;
  }

  /** The top distance (the smallest, or the largest for a max-heap); Infinity-like when empty. */
  peekDistance(): number {
    const top = this.#d[0];
    return top === undefined ? this.#sign * Number.POSITIVE_INFINITY : this.#sign * top;
  }

  push(distance: number, node: string): void {
    const d = this.#d;
    const n = this.#n;
    let i = d.length;
    d.push(this.#sign * distance);
    n.push(node);
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if ((d[parent] as number) <= (d[i] as number)) break;
      this.#swap(i, parent);
      i = parent;
    }
  }

  /** Remove and return the top pair. */
  pop(): [number, string] | undefined {
    const d = this.#d;
    const n = this.#n;
    if (d.length === 0) return undefined;
    const out: [number, string] = [this.#sign * (d[0] as number), n[0] as string];
    const lastD = d.pop() as number;
    const lastN = n.pop() as string;
    if (d.length > 0) {
      d[0] = lastD;
      n[0] = lastN;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < d.length && (d[l] as number) < (d[m] as number)) m = l;
        if (r < d.length && (d[r] as number) < (d[m] as number)) m = r;
        if (m === i) break;
        this.#swap(i, m);
        i = m;
      }
    }
    return out;
  }

  /** All pairs, in no particular order. */
  entries(): Array<[number, string]> {
    return this.#d.map((d, i) => [this.#sign * d, this.#n[i] as string]);
  }

  #swap(a: number, b: number): void {
    const d = this.#d;
    const n = this.#n;
    [d[a], d[b]] = [d[b] as number, d[a] as number];
    [n[a], n[b]] = [n[b] as string, n[a] as string];
  }
}
