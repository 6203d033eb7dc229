/**
 * A least-recently-used map of bounded size, for the token cache.
 *
 * A `Map` iterates in insertion order, so re-inserting an entry on every read keeps the least
 * recently used one first, where eviction finds it in O(1). That is all the token cache needs; an
 * npm LRU (lru-cache) would bring TTL timers, size accounting and fetch hooks we do not use, and the
 * cache's hit path is measured in microseconds, so fewer layers is better.
 */

/**
 * A bounded map that evicts its least recently used entry when full.
 *
 * @example
 * const lru = new Lru<string, number>(2);
 * lru.set('a', 1); lru.set('b', 2); lru.get('a'); lru.set('c', 3); // evicts 'b'
 */
export class Lru<K, V> {
  readonly #map = new Map<K, V>();
  readonly #capacity: number;

  /** `capacity` is the most entries kept: a positive whole number. */
  constructor(capacity: number) {
    if (!Number.isSafeInteger(capacity) || capacity < 1) throw new RangeError(`an LRU capacity must be a positive whole number, got ${capacity}`);
    this.#capacity = capacity;
  }

  /** The most entries kept. */
  get capacity(): number {
    return this.#capacity;
  }

  /** How many entries are held. */
  get size(): number {
    return this.#map.size;
  }

  /** The value for `key`, marking it most recently used; undefined when absent. */
  get(key: K): V | undefined {
    const value = this.#map.get(key);
    if (value !== undefined) {
      // Delete and re-insert moves the entry to the end of the iteration order: most recent.
      this.#map.delete(key);
      this.#map.set(key, value);
    }
    return value;
  }

  /** The value for `key` without changing its recency. */
  peek(key: K): V | undefined {
    return this.#map.get(key);
  }

  /** Store `value` as the most recently used entry, evicting the least recently used if full. */
  set(key: K, value: V): void {
    this.#map.delete(key);
    this.#map.set(key, value);
    if (this.#map.size > this.#capacity) {
      const oldest = this.#map.keys().next();
      if (oldest.done !== true) this.#map.delete(oldest.value);
    }
  }

  /** Remove `key`; true when it was there. */
  delete(key: K): boolean {
    return this.#map.delete(key);
  }

  /** Remove every entry. */
  clear(): void {
    this.#map.clear();
  }

  /** The keys from least to most recently used (for status and tests). */
  keys(): K[] {
    return [...this.#map.keys()];
  }
}
