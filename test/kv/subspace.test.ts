import { describe, expect, it } from 'vitest';
import { keyAfter, prefixEnd } from '../../src/kv/keys.js';
import { Subspace } from '../../src/kv/subspace.js';
import { pack } from '../../src/kv/tuple.js';

describe('Subspace', () => {
  const users = new Subspace(pack(['users']));

  it('packs tuples under its prefix and unpacks them back', () => {
    const key = users.pack([42, 'name']);
    expect(Buffer.from(key).toString('hex')).toBe('02757365727300' + '152a' + '026e616d6500');
    expect(users.unpack(key)).toEqual([42, 'name']);
    expect(users.contains(key)).toBe(true);
  });

  it('nests subspaces', () => {
    expect(users.subspace([42]).pack(['name'])).toEqual(users.pack([42, 'name']));
  });

  it('gives a range covering exactly its keys', () => {
    const { begin, end } = users.range([42]);
    const inside = users.pack([42, 'name']);
    const outside = users.pack([43]);
    expect(Buffer.compare(begin, inside) <= 0 && Buffer.compare(inside, end) < 0).toBe(true);
    expect(Buffer.compare(outside, end) >= 0).toBe(true);
  });

  it('refuses to unpack a key from elsewhere', () => {
    expect(() => users.unpack(pack(['groups', 1]))).toThrow(RangeError);
  });
});

describe('key helpers', () => {
  it('prefixEnd increments the last byte that is not \\xff, leaving its argument alone', () => {
    const prefix = Buffer.from([1, 2]);
    expect([...prefixEnd(prefix)]).toEqual([1, 3]);
    expect([...prefix]).toEqual([1, 2]);
    expect([...prefixEnd(Uint8Array.from([1, 2, 0xff, 0xff]))]).toEqual([1, 3]);
    expect([...prefixEnd(Uint8Array.from([0]))]).toEqual([1]);
    expect(() => prefixEnd(Uint8Array.from([0xff, 0xff]))).toThrow(RangeError);
    expect(() => prefixEnd(new Uint8Array(0))).toThrow(RangeError);
  });

  it('keyAfter appends a zero byte', () => {
    expect([...keyAfter(Uint8Array.from([5]))]).toEqual([5, 0]);
  });
});
