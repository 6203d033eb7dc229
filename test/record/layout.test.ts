import { describe, expect, it } from 'vitest';
import { decodeRecord, decodeVector, encodeRecord, encodeVector } from '../../layers/record/codec.js';
import { floatItem, uuidItem } from '../../layers/record/index-entries.js';
import { COLLECTION_BY_NAME, COLLECTION_CONFIG, COLLECTION_LAST_ID_KEY, RECORD_ROOT, TENANT_BYTES_KEY, TENANT_POINTS_KEY, collectionKeys, pointIdFromItem, pointIdItem } from '../../layers/record/layout.js';
import { unpack } from '../../src/kv/tuple.js';

// The record layer's on-disk layout, byte for byte: a change here orphans every stored collection.
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const UUID = '550e8400-e29b-41d4-a716-446655440000';

describe('record layer layout', () => {
  it('keeps collection keys where they are', () => {
    expect(hex(RECORD_ROOT.prefix)).toBe('fe52');
    expect(hex(COLLECTION_BY_NAME.pack(['docs']))).toBe('fe521402646f637300');
    expect(hex(COLLECTION_CONFIG.pack([1]))).toBe('fe5215011501');
    expect(hex(COLLECTION_LAST_ID_KEY)).toBe('fe521502');
    expect(hex(collectionKeys(1).count)).toBe('fe52150315011503');
    expect(hex(collectionKeys(1).payloadBytes)).toBe('fe5215031501150514');
    expect(hex(collectionKeys(1).vectorBytes)).toBe('fe521503150115051501');
    expect(hex(TENANT_POINTS_KEY)).toBe('fe52150514');
    expect(hex(TENANT_BYTES_KEY)).toBe('fe5215051501');
  });

  it('keeps point, vector and index keys where they are, for every id kind', () => {
    const k = collectionKeys(1);
    expect(hex(k.points.pack([pointIdItem(5)]))).toBe('fe5215031501141505');
    expect(hex(k.points.pack([pointIdItem(UUID)]))).toBe('fe52150315011430550e8400e29b41d4a716446655440000');
    expect(hex(k.points.pack([pointIdItem('acme_1')]))).toBe('fe5215031501140261636d655f3100');
    expect(hex(k.vectors('').pack([pointIdItem(5)]))).toBe('fe5215031501150102001505');
    expect(hex(k.vectors('img').pack([pointIdItem(5)]))).toBe('fe5215031501150102696d67001505');
    expect(hex(k.index.pack(['city', 'Berlin', pointIdItem(5)]))).toBe('fe52150315011502026369747900024265726c696e001505');
    expect(hex(k.index.pack(['n', floatItem(2.5), pointIdItem(5)]))).toBe('fe52150315011502026e0021c0040000000000001505');
    expect(hex(k.index.pack(['u', uuidItem(UUID), pointIdItem(5)]))).toBe('fe5215031501150202750030550e8400e29b41d4a7164466554400001505');
    expect(hex(k.index.pack([null, 'eu', pointIdItem(5)]))).toBe('fe5215031501150200026575001505');
  });

  it('reads back every id kind from its key, and orders integers before UUIDs', () => {
    const k = collectionKeys(1);
    for (const id of [0, 5, 2 ** 53 - 1, UUID, 'acme_1']) {
      expect(pointIdFromItem(unpack(k.points.pack([pointIdItem(id)]).subarray(k.points.prefix.length))[0])).toBe(id);
    }
    expect(Buffer.compare(k.points.pack([pointIdItem(2 ** 53 - 1)]), k.points.pack([pointIdItem(UUID)]))).toBe(-1);
  });

  it('keeps the record and vector encodings', () => {
    expect(hex(encodeRecord({ payload: { a: 1 } }))).toBe('017b2261223a317d');
    expect(hex(encodeRecord({ payload: { a: 1 }, shardKey: 'eu' }))).toBe('020004226575227b2261223a317d');
    expect(decodeRecord(encodeRecord({ payload: { a: [1, 'x'] }, shardKey: 7 }))).toEqual({ payload: { a: [1, 'x'] }, shardKey: 7 });
    expect(hex(encodeVector(Float32Array.of(1, -2.5)))).toBe('0000803f000020c0');
    // Unaligned bytes (as an engine may hand them back) decode the same.
    const unaligned = new Uint8Array(9);
    unaligned.set(encodeVector(Float32Array.of(1, -2.5)), 1);
    expect(Array.from(decodeVector(unaligned.subarray(1)))).toEqual([1, -2.5]);
  });

  it('refuses a record larger than one stored value', () => {
    expect(() => encodeRecord({ payload: { big: 'x'.repeat(100_000) } })).toThrow(expect.objectContaining({ code: 'ERR_POINT_TOO_LARGE' }));
  });
});
