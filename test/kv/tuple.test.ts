import { describe, expect, it } from 'vitest';
import { pack, tupleRange, unpack, type TupleItem } from '../../src/kv/tuple.js';

/**
 * Golden vectors from FoundationDB's design/tuple.md and its Java binding's
 * TupleSerializationTest. Keys on disk depend on these bytes: if this test changes, data breaks.
 */
const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex');
const b = (...bytes: number[]) => Buffer.from(bytes);

const GOLDEN: Array<[string, TupleItem[], string]> = [
  ['empty tuple', [], ''],
  ['zero', [0], '14'],
  ['1', [1], '15 01'],
  ['-1', [-1], '13 fe'],
  ['255', [255], '15 ff'],
  ['-255', [-255], '13 00'],
  ['256', [256], '16 01 00'],
  ['-256', [-256], '12 fe ff'],
  ['65536', [65536], '17 01 00 00'],
  ['-65536', [-65536], '11 fe ff ff'],
  ['-5551212 (tuple.md)', [-5551212], '11 ab 4b 93'],
  ['-(2^32 - 1)', [-(2 ** 32 - 1)], '10 00 00 00 00'],
  ['Long.MAX_VALUE', [9223372036854775807n], '1c 7f ff ff ff ff ff ff ff'],
  ['Long.MAX_VALUE + 1', [9223372036854775808n], '1c 80 00 00 00 00 00 00 00'],
  ['2^64 - 1', [18446744073709551615n], '1c ff ff ff ff ff ff ff ff'],
  ['Long.MIN_VALUE', [-9223372036854775808n], '0c 7f ff ff ff ff ff ff ff'],
  ['Long.MIN_VALUE + 1', [-9223372036854775807n], '0c 80 00 00 00 00 00 00 00'],
  ['3.14 as double', [3.14], '21 c0 09 1e b8 51 eb 85 1f'],
  ['-3.14 as double', [-3.14], '21 3f f6 e1 47 ae 14 7a e0'],
  ['3.14 as float', [{ type: 'float', value: 3.14 }], '20 c0 48 f5 c3'],
  ['-42 as float (tuple.md)', [{ type: 'float', value: -42 }], '20 3d d7 ff ff'],
  ['+infinity double', [Number.POSITIVE_INFINITY], '21 ff f0 00 00 00 00 00 00'],
  ['-infinity double', [Number.NEGATIVE_INFINITY], '21 00 0f ff ff ff ff ff ff'],
  ['empty bytes', [b()], '01 00'],
  ['bytes 01 02 03', [b(1, 2, 3)], '01 01 02 03 00'],
  ['bytes with nulls', [b(0, 0, 0, 4)], '01 00 ff 00 ff 00 ff 04 00'],
  ['bytes foo\\x00bar (tuple.md)', [Buffer.from('foo\x00bar', 'latin1')], '01 66 6f 6f 00 ff 62 61 72 00'],
  ['empty string', [''], '02 00'],
  ['hello', ['hello'], '02 68 65 6c 6c 6f 00'],
  ['F\\u00d4O\\u0000bar (tuple.md)', ['F\u00d4O\u0000bar'], '02 46 c3 94 4f 00 ff 62 61 72 00'],
  ['chinese', ['\u4e2d\u6587'], '02 e4 b8 ad e6 96 87 00'],
  ['fire emoji', ['\ud83d\udd25'], '02 f0 9f 94 a5 00'],
  ['max code point', ['\udbff\udfff'], '02 f4 8f bf bf 00'],
  ['nested (null)', [[null]], '05 00 ff 00'],
  ['nested (null, "hello")', [[null, 'hello']], '05 00 ff 02 68 65 6c 6c 6f 00 00'],
  ['nested (null, "hell\\0")', [[null, 'hell\0']], '05 00 ff 02 68 65 6c 6c 00 ff 00 00'],
  ['(nested (null), "hello")', [[null], 'hello'], '05 00 ff 00 02 68 65 6c 6c 6f 00'],
  [
    '(nested (null), "hello", bytes 01 00, empty bytes)',
    [[null], 'hello', b(1, 0), b()],
    '05 00 ff 00 02 68 65 6c 6c 6f 00 01 01 00 ff 00 01 00',
  ],
  ['nested (foo\\x00bar, null, ()) (tuple.md)', [[Buffer.from('foo\x00bar', 'latin1'), null, []]], '05 01 66 6f 6f 00 ff 62 61 72 00 00 ff 05 00 00'],
  ['uuid', [{ type: 'uuid', value: hex('ffffffffba5eba11000000005ca1ab1e') }], '30 ff ff ff ff ba 5e ba 11 00 00 00 00 5c a1 ab 1e'],
  ['false', [false], '26'],
  ['true', [true], '27'],
];

describe('tuple encoding (golden vectors)', () => {
  it.each(GOLDEN)('packs %s', (_name, items, expected) => {
    expect(Buffer.from(pack(items)).toString('hex')).toBe(hex(expected).toString('hex'));
  });

  it.each(GOLDEN.filter(([name]) => !name.includes('float')))('unpacks %s back to the same items', (_name, items, expected) => {
    expect(pack(unpack(hex(expected)))).toEqual(pack(items));
  });

  it('accepts a plain Uint8Array as a byte string', () => {
    expect(Buffer.from(pack([Uint8Array.from([1, 2, 3])])).toString('hex')).toBe('0101020300');
  });

  it('orders integers, strings and nested tuples by their encodings', () => {
    // Type codes order first: byte strings (0x01), strings (0x02), nested (0x05), integers (0x0c-0x1c).
    const sorted: TupleItem[][] = [[Buffer.from('z')], ['a'], ['a', 1], ['b'], [[null]], [['a']], [-1000], [-1], [0], [1], [1000], [true]];
    const packed = sorted.map(t => Buffer.from(pack(t)));
    expect([...packed].sort(Buffer.compare)).toEqual(packed);
  });

  it('gives a range holding exactly the tuples that extend a prefix', () => {
    const { begin, end } = tupleRange(['users', 42]);
    const inside = Buffer.from(pack(['users', 42, 'name']));
    const self = Buffer.from(pack(['users', 42]));
    const next = Buffer.from(pack(['users', 43]));
    expect(Buffer.compare(begin, inside) <= 0 && Buffer.compare(inside, end) < 0).toBe(true);
    expect(Buffer.compare(self, begin) < 0).toBe(true);
    expect(Buffer.compare(next, end) >= 0).toBe(true);
  });

  it('refuses bytes that are not a tuple', () => {
    expect(() => unpack(Uint8Array.from([0x99]))).toThrow();
  });
});
