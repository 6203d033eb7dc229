import { StrataError } from '../../src/errors.js';
import { LIMITS } from '../../src/kv/limits.js';
import type { ShardKey } from './collections.js';

/**
 * How a point's record and vectors are stored. On-disk format: pinned by test/record/layout.test.ts.
 *
 * Record: `0x01` + payload JSON, or `0x02` + u16 BE length + shard key JSON + payload JSON when the
 * point belongs to a shard key. Vector: the Float32 values, little-endian, nothing else (its size
 * is the collection's). Kept apart from the payload so a search reads vectors without parsing JSON.
 */

/** A point's record, decoded. */
export interface PointRecord {
  readonly payload: Record<string, unknown>;
  readonly shardKey?: ShardKey;
}

const PLAIN = 0x01;
const WITH_SHARD_KEY = 0x02;

/** Encode a record; `ERR_POINT_TOO_LARGE` beyond one value's size. */
export function encodeRecord(record: PointRecord): Uint8Array {
  const payload = Buffer.from(JSON.stringify(record.payload));
  let bytes: Buffer;
  if (record.shardKey === undefined) {
    bytes = Buffer.allocUnsafe(1 + payload.length);
    bytes[0] = PLAIN;
    payload.copy(bytes, 1);
  } else {
    const shard = Buffer.from(JSON.stringify(record.shardKey));
    bytes = Buffer.allocUnsafe(3 + shard.length + payload.length);
    bytes[0] = WITH_SHARD_KEY;
    bytes.writeUInt16BE(shard.length, 1);
    shard.copy(bytes, 3);
    payload.copy(bytes, 3 + shard.length);
  }
  if (bytes.length > LIMITS.valueSize) {
    throw new StrataError('ERR_POINT_TOO_LARGE', `the point's payload takes ${bytes.length} bytes stored; at most ${LIMITS.valueSize} fit`);
  }
  return bytes;
}

/** The stored size of records decoded here, so usage counters need not encode them again. */
const storedSizes = new WeakMap<PointRecord, number>();

/** Decode a record written by {@link encodeRecord}. */
export function decodeRecord(bytes: Uint8Array): PointRecord {
  const b = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let record: PointRecord;
  if (b[0] === PLAIN) record = { payload: JSON.parse(b.toString('utf8', 1)) as Record<string, unknown> };
  else if (b[0] === WITH_SHARD_KEY) {
    const n = b.readUInt16BE(1);
    record = {
      shardKey: JSON.parse(b.toString('utf8', 3, 3 + n)) as ShardKey,
      payload: JSON.parse(b.toString('utf8', 3 + n)) as Record<string, unknown>,
    };
  } else throw new Error(`unknown point record format ${String(b[0])}`);
  storedSizes.set(record, b.length);
  return record;
}

/** How many bytes `record` takes stored. */
export function storedSize(record: PointRecord): number {
  return storedSizes.get(record) ?? encodeRecord(record).length;
}

/** A vector's stored bytes. */
export function encodeVector(v: Float32Array): Uint8Array {
  const b = Buffer.allocUnsafe(v.length * 4);
  for (let i = 0; i < v.length; i++) b.writeFloatLE(v[i] as number, i * 4);
  return b;
}

/** A stored vector's values (a copy: stored bytes need not be 4-byte aligned). */
export function decodeVector(bytes: Uint8Array): Float32Array {
  const n = bytes.byteLength >>> 2;
  if (bytes.byteOffset % 4 === 0 && isLittleEndian) return new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + n * 4));
  const out = new Float32Array(n);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let i = 0; i < n; i++) out[i] = view.getFloat32(i * 4, true);
  return out;
}

const isLittleEndian = new Uint8Array(Uint16Array.of(1).buffer)[0] === 1;

/**
 * A stored vector's values written into `out` (reused by the caller: a scan decodes thousands of
 * vectors, and a fresh array each would cost more than scoring it); false when the stored vector
 * is not `out`'s length.
 */
export function decodeVectorInto(bytes: Uint8Array, out: Float32Array): boolean {
  if (bytes.byteLength !== out.length * 4) return false;
  if (isLittleEndian) new Uint8Array(out.buffer, out.byteOffset, bytes.byteLength).set(bytes);
  else {
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    for (let i = 0; i < out.length; i++) out[i] = view.getFloat32(i * 4, true);
  }
  return true;
}
