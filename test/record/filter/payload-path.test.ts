import { describe, expect, it } from 'vitest';
import { arrayKey, parsePayloadPath, rawValuesAt, valuesAt } from '../../../layers/record/payload-path.js';

// Cases from qdrant lib/segment/src/json_path/{parse.rs,mod.rs} tests.
describe('parsePayloadPath', () => {
  it('parses keys, indexes, wildcards and quoted keys', () => {
    expect(parsePayloadPath('foo[1][50].bar-baz[]."qux[.]quux"')).toEqual({
      text: 'foo[1][50].bar-baz[]."qux[.]quux"',
      first: 'foo',
      rest: [
        { kind: 'index', index: 1 },
        { kind: 'index', index: 50 },
        { kind: 'key', key: 'bar-baz' },
        { kind: 'wildcard' },
        { kind: 'key', key: 'qux[.]quux' },
      ],
    });
    expect(parsePayloadPath('"a b".c').first).toBe('a b');
    expect(parsePayloadPath('città_1').first).toBe('città_1');
  });

  it.each(['', '.a', 'a.', 'a..b', 'a[', 'a[x]', 'a[-1]', 'a b', '"a', 'a."b\\"c"', 'a[99999999999999999999]', '[0]', 'a]'])(
    'refuses %j with ERR_PAYLOAD_INVALID',
    (text) => {
      expect(() => parsePayloadPath(text)).toThrow(expect.objectContaining({ code: 'ERR_PAYLOAD_INVALID' }));
    },
  );

  it('arrayKey appends [] once', () => {
    expect(arrayKey(parsePayloadPath('diet')).text).toBe('diet[]');
    expect(arrayKey(parsePayloadPath('diet[]')).text).toBe('diet[]');
  });
});

describe('rawValuesAt and valuesAt', () => {
  const map = {
    a: { b: [{ c: 1 }, { c: 2 }, { d: { e: 3 } }] },
    g: ['g0', 'g1', 'g2'],
    arr: [{ a: [1, 2, 3] }, { a: 4 }, { b: 5 }],
    n: null,
    nn: [null, null],
    empty: [],
  };
  const raw = (p: string): unknown[] => rawValuesAt(map, parsePayloadPath(p));

  it('follows keys, indexes and wildcards as Qdrant value_get does', () => {
    expect(raw('a.b[].c')).toEqual([1, 2]);
    expect(raw('a.b[].d')).toEqual([{ e: 3 }]);
    expect(raw('a.b[1].c')).toEqual([2]);
    expect(raw('g[2]')).toEqual(['g2']);
    expect(raw('a.b[3]')).toEqual([]);
    expect(raw('a.b')).toEqual([map.a.b]);
    expect(raw('missing')).toEqual([]);
  });

  it('does not look through an array without []', () => {
    expect(raw('arr.a')).toEqual([]);
    expect(raw('arr[].a')).toEqual([[1, 2, 3], 4]);
    expect(raw('arr[].a[]')).toEqual([1, 2, 3]);
  });

  it('keeps nulls and empty arrays as values', () => {
    expect(raw('n')).toEqual([null]);
    expect(raw('n[]')).toEqual([]);
    expect(raw('nn[]')).toEqual([null, null]);
    expect(raw('empty')).toEqual([[]]);
    expect(raw('empty[]')).toEqual([]);
  });

  it('valuesAt spreads an array value one level, as conditions see it', () => {
    expect(valuesAt(map, parsePayloadPath('arr[].a'))).toEqual([1, 2, 3, 4]);
    expect(valuesAt({ t: ['a', ['b']] }, parsePayloadPath('t'))).toEqual(['a', ['b']]);
  });

  it('reads own properties only', () => {
    expect(rawValuesAt({}, parsePayloadPath('constructor'))).toEqual([]);
    expect(rawValuesAt(JSON.parse('{"__proto__": 1}') as Record<string, unknown>, parsePayloadPath('__proto__'))).toEqual([1]);
  });
});
