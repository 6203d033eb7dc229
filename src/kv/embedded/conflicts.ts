import { lowerBound } from './write-buffer.js';

/**
 * Conflict ranges, as FoundationDB's resolvers keep them: what a transaction read, and what a
 * committed batch wrote. Keys are kstrs (stored keys as latin1 strings, so `<` is key order).
 */

/** The keys and ranges [begin, end) a transaction read without `snapshot`. */
export interface ReadSet {
  readonly points: readonly string[];
  readonly ranges: ReadonlyArray<readonly [string, string]>;
}

/** The keys and ranges one batch of commits wrote. */
export class WriteSet {
  readonly #points = new Set<string>();
  readonly #ranges: Array<readonly [string, string]> = [];
  #sorted: string[] | null = null;

  addPoint(k: string): void {
    if (!this.#points.has(k)) {
      this.#points.add(k);
      this.#sorted = null;
    }
  }

  addRange(begin: string, end: string): void {
    this.#ranges.push([begin, end]);
  }

  /** True when anything in `reads` was written here. */
  intersects(reads: ReadSet): boolean {
    for (const p of reads.points) {
      if (this.#points.has(p)) return true;
      for (const [b, e] of this.#ranges) if (b <= p && p < e) return true;
    }
    for (const [rb, re] of reads.ranges) {
      for (const [b, e] of this.#ranges) if (b < re && rb < e) return true;
      if (this.#points.size > 0) {
        const sorted = (this.#sorted ??= [...this.#points].sort());
        const i = lowerBound(sorted, rb);
        if (i < sorted.length && (sorted[i] as string) < re) return true;
      }
    }
    return false;
  }
}
