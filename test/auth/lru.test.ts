import { describe, expect, it } from 'vitest';
import { Lru } from '../../src/auth/lru.js';

describe('Lru', () => {
  it('evicts the least recently used entry; get refreshes, peek does not', () => {
    const lru = new Lru<string, number>(3);
    lru.set('a', 1);
    lru.set('b', 2);
    lru.set('c', 3);
    expect(lru.get('a')).toBe(1);
    expect(lru.peek('b')).toBe(2);
    expect(lru.keys()).toEqual(['b', 'c', 'a']);
    lru.set('d', 4);
    expect(lru.keys()).toEqual(['c', 'a', 'd']);
    expect(lru.get('b')).toBeUndefined();
    lru.set('c', 30); // overwriting refreshes too
    lru.set('e', 5);
    expect(lru.keys()).toEqual(['d', 'c', 'e']);
    expect(lru.size).toBe(3);
    expect(lru.delete('c')).toBe(true);
    expect(lru.delete('c')).toBe(false);
    lru.clear();
    expect(lru.size).toBe(0);
  });

  it('refuses a capacity that is not a positive whole number', () => {
    for (const bad of [0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY]) expect(() => new Lru(bad)).toThrow(RangeError);
    expect(new Lru(1).capacity).toBe(1);
  });
});
