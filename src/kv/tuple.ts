import * as fdbTuple from 'fdb-tuple';

/**
 * FoundationDB's tuple encoding, byte-compatible with the official bindings (it is the encoding
 * node-foundationdb uses, split out by its author). Golden vectors from FoundationDB's
 * `design/tuple.md` and its Java binding's tests pin it in `test/kv/tuple.test.ts`: the encoding is
 * part of every key on disk, so a change here would silently orphan existing data.
 */

/**
 * A value a tuple may hold: null, bytes (any Uint8Array), string, number, bigint, boolean, a
 * nested tuple, or fdb-tuple's typed forms (uuid, float). Integers beyond 2^53 decode as `bigint`.
 */
export type TupleItem = Exclude<fdbTuple.TupleItem, readonly unknown[]> | Uint8Array | readonly TupleItem[];
export type Tuple = TupleItem[];

function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** Convert Uint8Array members to Buffers, which is what fdb-tuple recognises as byte strings. */
function normalize(items: readonly TupleItem[]): fdbTuple.TupleItem[] {
  return items.map((item): fdbTuple.TupleItem => {
    if (item instanceof Uint8Array) return asBuffer(item);
    if (isTuple(item)) return normalize(item);
    return item;
  });
}

function isTuple(item: TupleItem): item is readonly TupleItem[] {
  return Array.isArray(item);
}

/** Encode a tuple. Strings are Unicode strings (code 0x02); byte arrays are byte strings (0x01). */
export function pack(items: readonly TupleItem[]): Uint8Array {
  return fdbTuple.pack(normalize(items));
}

/** Decode bytes produced by {@link pack}. Throws `TypeError` on bytes that are not a tuple. */
export function unpack(bytes: Uint8Array): Tuple {
  return fdbTuple.unpack(asBuffer(bytes));
}

/** The range `[begin, end)` holding every tuple that starts with `items` (but not `items` itself). */
export function tupleRange(items: readonly TupleItem[]): { begin: Uint8Array; end: Uint8Array } {
  const { begin, end } = fdbTuple.range(normalize(items));
  return { begin, end };
}
