import { describe, expect, it } from 'vitest';
import { Lru } from '../../src/auth/lru.js';

describe('Lru', () => {
  it('evicts the oldest entry; get promotes an entry once half the capacity was inserted after it', () => {
    const lru = new Lru<string, number>(4); // promotes after 2 younger insertions
    for (const [i, k] of ['a', 'b', 'c', 'd'].entries()) lru.set(k, i);
    expect(lru.get('c')).toBe(2); // only 'd' is younger: left in place
    expect(lru.keys()).toEqual(['a', 'b', 'c', 'd']);
    expect(lru.get('a')).toBe(0); // three are younger: promoted
    expect(lru.keys()).toEqual(['b', 'c', 'd', 'a']);
    expect(lru.peek('b')).toBe(1); // peek never promotes
    lru.set('e', 4);
    expect(lru.keys()).toEqual(['c', 'd', 'a', 'e']);
    expect(lru.get('b')).toBeUndefined();
    lru.set('c', 30); // overwriting makes it the youngest
    lru.set('f', 5);
    expect(lru.keys()).toEqual(['a', 'e', 'c', 'f']);
    expect(lru.size).toBe(4);
    expect(lru.delete('c')).toBe(true);
    expect(lru.delete('c')).toBe(false);
    lru.clear();
    expect(lru.size).toBe(0);
  });

  it('never evicts an entry used within the last half-capacity of insertions', () => {
    const capacity = 64;
    const lru = new Lru<number, number>(capacity);
    // A hot key used between every insertion of a stream of cold keys stays.
    lru.set(-1, -1);
    for (let i = 0; i < 10 * capacity; i++) {
      lru.set(i, i);
      expect(lru.get(-1)).toBe(-1);
    }
    // Keys used every capacity/2 - 1 insertions stay too, whatever their order.
    const hot = [1000, 1001, 1002];
    for (const k of hot) lru.set(k, k);
    for (let i = 0; i < 10 * capacity; i++) {
      lru.set(i + 5000, i);
      if (i % (capacity / 2 - 1) === 0) for (const k of hot) expect(lru.get(k)).toBe(k);
    }
  });

  it('capacity 1 keeps the last entry', () => {
    const lru = new Lru<string, number>(1);
    lru.set('a', 1);
    expect(lru.get('a')).toBe(1);
    lru.set('b', 2);
    expect(lru.keys()).toEqual(['b']);
  });

  it('refuses a capacity that is not a positive whole number', () => {
    for (const bad of [0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY]) expect(() => new Lru(bad)).toThrow(RangeError);
    expect(new Lru(1).capacity).toBe(1);
  });
});
