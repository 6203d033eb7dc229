import type { GraphMemo } from './hnsw/memo.js';

/**
 * Graph memos kept by key, least recently used first out, bounded by how many and by the bytes
 * their vectors hold in the arena. A memo that leaves (evicted, replaced or too large) is retired:
 * its memory goes back once no search uses it. A memo that has grown past the byte bound on its
 * own is dropped when next asked for, so its graph starts over with a fresh one.
 */
export class MemoShelf<V extends { readonly memo: GraphMemo }> {
  readonly #held = new Map<string, V>();
  readonly #maxGraphs: number;
  readonly #maxBytes: number;

  constructor(maxGraphs: number, maxBytes: number) {
    if (!Number.isSafeInteger(maxGraphs) || maxGraphs < 1) throw new RangeError(`maxGraphs must be a positive whole number, got ${maxGraphs}`);
    if (!Number.isSafeInteger(maxBytes) || maxBytes < 1) throw new RangeError(`maxBytes must be a positive whole number, got ${maxBytes}`);
    this.#maxGraphs = maxGraphs;
    this.#maxBytes = maxBytes;
  }

  /** The entry of `key`, now the most recently used; undefined when none (or it grew too large). */
  get(key: string): V | undefined {
    const held = this.#held.get(key);
    if (held === undefined) return undefined;
    this.#held.delete(key);
    if (held.memo.bytes > this.#maxBytes) {
      held.memo.retire();
      return undefined;
    }
    this.#held.set(key, held);
    return held;
  }

  /** Keep `value` under `key` (retiring a different memo held there), then evict beyond the bounds. */
  set(key: string, value: V): void {
    const old = this.#held.get(key);
    if (old !== undefined && old.memo !== value.memo) old.memo.retire();
    this.#held.delete(key);
    this.#held.set(key, value);
    let bytes = 0;
    for (const v of this.#held.values()) bytes += v.memo.bytes;
    for (const [k, v] of this.#held) {
      if (k === key || (this.#held.size <= this.#maxGraphs && bytes <= this.#maxBytes)) break;
      bytes -= v.memo.bytes;
      v.memo.retire();
      this.#held.delete(k);
    }
  }

  /** Drop `key`'s entry, retiring its memo. */
  delete(key: string): void {
    this.#held.get(key)?.memo.retire();
    this.#held.delete(key);
  }
}

/** The default byte bound of a shelf: 256 MiB of decoded vectors. */
export const DEFAULT_MEMO_BYTES = 256 * 1024 * 1024;
