import { addLittleEndian } from '../atomic.js';

/**
 * A transaction's buffered writes, keyed by kstr (see stored-keys.ts), with what read-your-writes
 * needs: the effective state of a key, and the written keys in a range in order.
 *
 * Invariant that keeps commit simple: a point write made before a clearRange covering it is
 * dropped by that clearRange, so at commit applying every cleared range first and then every point
 * write gives the same result as replaying the operations in order.
 */

/** A point write: a known value, a known absence, or adds over a value only the store knows. */
export type PointWrite =
  | { readonly kind: 'set'; readonly value: Uint8Array }
  | { readonly kind: 'clear' }
  | { readonly kind: 'add'; readonly params: readonly Uint8Array[] };

/** What a key looks like through the buffer. */
export type Lookup =
  | { readonly kind: 'known'; readonly value: Uint8Array | undefined }
  | { readonly kind: 'adds'; readonly params: readonly Uint8Array[] }
  | { readonly kind: 'unwritten' };

const UNWRITTEN: Lookup = { kind: 'unwritten' };

export class WriteBuffer {
  readonly points = new Map<string, PointWrite>();
  /** Cleared ranges [begin, end), sorted and disjoint. */
  cleared: Array<readonly [string, string]> = [];
  #sortedKeys: string[] | null = null;

  get isEmpty(): boolean {
    return this.points.size === 0 && this.cleared.length === 0;
  }

  set(k: string, value: Uint8Array): void {
    this.#put(k, { kind: 'set', value });
  }

  clear(k: string): void {
    this.#put(k, { kind: 'clear' });
  }

  add(k: string, param: Uint8Array): void {
    const current = this.lookup(k);
    if (current.kind === 'known') this.#put(k, { kind: 'set', value: addLittleEndian(current.value, param) });
    else if (current.kind === 'adds') {
      // Consecutive adds of the same width fold into one (sums modulo 2^(8·width) compose), so a
      // transaction adding to one counter many times keeps one pending add, not a growing list.
      const last = current.params[current.params.length - 1];
      const params = last !== undefined && last.length === param.length ? [...current.params.slice(0, -1), addLittleEndian(last, param)] : [...current.params, param];
      this.#put(k, { kind: 'add', params });
    }
    else this.#put(k, { kind: 'add', params: [param] });
  }

  clearRange(begin: string, end: string): void {
    if (begin >= end) return;
    for (const k of this.keysIn(begin, end)) this.points.delete(k);
    this.#sortedKeys = null;
    // Merge [begin, end) into the disjoint sorted list.
    let b = begin;
    let e = end;
    const kept: Array<readonly [string, string]> = [];
    for (const r of this.cleared) {
      if (r[1] < b || r[0] > e) kept.push(r);
      else {
        if (r[0] < b) b = r[0];
        if (r[1] > e) e = r[1];
      }
    }
    kept.push([b, e]);
    kept.sort((x, y) => (x[0] < y[0] ? -1 : x[0] > y[0] ? 1 : 0));
    this.cleared = kept;
  }

  /** The effective state of `k` as far as this buffer knows it. */
  lookup(k: string): Lookup {
    const w = this.points.get(k);
    if (w !== undefined) {
      if (w.kind === 'set') return { kind: 'known', value: w.value };
      if (w.kind === 'clear') return { kind: 'known', value: undefined };
      return { kind: 'adds', params: w.params };
    }
    return this.isCleared(k) ? { kind: 'known', value: undefined } : UNWRITTEN;
  }

  /** True when `k` lies in a cleared range. */
  isCleared(k: string): boolean {
    const c = this.cleared;
    let lo = 0;
    let hi = c.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if ((c[mid] as readonly [string, string])[1] <= k) lo = mid + 1;
      else hi = mid;
    }
    const r = c[lo];
    return r !== undefined && r[0] <= k;
  }

  /** The point-written keys in [begin, end), ascending. */
  keysIn(begin: string, end: string): string[] {
    if (this.points.size === 0) return [];
    const sorted = (this.#sortedKeys ??= [...this.points.keys()].sort());
    let i = lowerBound(sorted, begin);
    const out: string[] = [];
    for (; i < sorted.length && (sorted[i] as string) < end; i++) out.push(sorted[i] as string);
    return out;
  }

  #put(k: string, w: PointWrite): void {
    if (!this.points.has(k)) this.#sortedKeys = null;
    this.points.set(k, w);
  }
}

/** Apply buffered adds to the value the store holds. */
export function applyAdds(base: Uint8Array | undefined, params: readonly Uint8Array[]): Uint8Array {
  let value = base;
  for (const p of params) value = addLittleEndian(value, p);
  return value as Uint8Array;
}

/** The first index in a sorted array whose element is >= `k`. */
export function lowerBound(sorted: readonly string[], k: string): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if ((sorted[mid] as string) < k) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
