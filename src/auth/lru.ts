/**
 * A bounded map that evicts entries it has not used for a while, for the token cache.
 *
 * A `Map` iterates in insertion order, so re-inserting an entry moves it to the young end and
 * eviction takes the old end in O(1). Re-inserting on every read is what an exact LRU does, but
 * it costs a delete and an insert per hit, on the path every request with a token takes. So reads
 * promote lazily: an entry is moved only once at least half the capacity has been inserted after
 * it, which keeps every entry used within the last half-capacity of insertions safe from eviction
 * (the property a cache needs) at the price of exact order among the recently used. An npm LRU
 * (lru-cache) would bring TTL timers, size accounting and fetch hooks we do not use.
 */

interface Slot<V> {
  value: V;
  /** The insertion count when this entry was last (re)inserted. */
  stamp: number;
}

/**
 * A bounded map that evicts the entry least recently inserted or promoted when full.
 *
 * @example
 * const lru = new Lru<string, number>(2);
 * lru.set('a', 1); lru.set('b', 2); lru.get('a'); lru.set('c', 3); // evicts 'a': too young to promote
 */
export class Lru<K, V> {
  readonly #map = new Map<K, Slot<V>>();
  readonly #capacity: number;
  readonly #promoteAfter: number;
  #inserted = 0;

  /** `capacity` is the most entries kept: a positive whole number. */
  constructor(capacity: number) {
    if (!Number.isSafeInteger(capacity) || capacity < 1) throw new RangeError(`an LRU capacity must be a positive whole number, got ${capacity}`);
    this.#capacity = capacity;
    this.#promoteAfter = Math.floor(capacity / 2);
  }

  /** The most entries kept. */
  get capacity(): number {
    return this.#capacity;
  }

  /** How many entries are held. */
  get size(): number {
    return this.#map.size;
  }

  /** The value for `key`, marking it used; undefined when absent. */
  get(key: K): V | undefined {
    const slot = this.#map.get(key);
    if (slot === undefined) return undefined;
    if (this.#inserted - slot.stamp > this.#promoteAfter) {
      // Old enough to be near the eviction end: move it to the young end.
      this.#map.delete(key);
      slot.stamp = ++this.#inserted;
      this.#map.set(key, slot);
    }
    return slot.value;
  }

  /** The value for `key` without marking it used. */
  peek(key: K): V | undefined {
    return this.#map.get(key)?.value;
  }

  /** Store `value` as the youngest entry, evicting the oldest if full. */
  set(key: K, value: V): void {
    this.#map.delete(key);
    this.#map.set(key, { value, stamp: ++this.#inserted });
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

  /** The keys from oldest to youngest (for status and tests). */
  keys(): K[] {
    return [...this.#map.keys()];
  }
}
