/**
 * How the embedded engine lays keys out in LMDB. On-disk constants: pinned by
 * `test/kv/embedded/stored-keys.test.ts`; changing them orphans existing data.
 *
 * LMDB cannot store an empty key but FoundationDB can, so every user key is stored behind one
 * constant byte, which keeps the order of keys unchanged. Inside the engine a stored key also
 * travels as a latin1 string ("kstr"): one char per byte, so JavaScript's string comparison is
 * exactly bytewise key order, and strings are usable as Map keys.
 */

/** The byte before every user key in the data database. */
export const STORED_KEY_PREFIX = 0x00;
/** LMDB's largest key with the default page size. */
export const LMDB_MAX_KEY_SIZE = 1978;
/** The named LMDB databases. */
export const DATA_DB_NAME = 'data';
export const META_DB_NAME = 'meta';
/** In the meta database: the commit version of the last batch written (8 bytes, big-endian). */
export const VERSION_KEY = Buffer.from('version');

/** The stored form of a user key. */
export function storedKey(key: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(key.length + 1);
  out[0] = STORED_KEY_PREFIX;
  out.set(key, 1);
  return out;
}

/** The user key a stored key holds. */
export function userKey(stored: Uint8Array): Uint8Array {
  return Uint8Array.prototype.slice.call(stored, 1);
}

/** A stored key as a latin1 string (see the module comment). */
export function toKstr(stored: Buffer): string {
  return stored.toString('latin1');
}

/** The stored key a latin1 string holds. */
export function fromKstr(kstr: string): Buffer {
  return Buffer.from(kstr, 'latin1');
}

/** Encode a commit version for the meta database. */
export function encodeVersion(version: number): Buffer {
  const out = Buffer.alloc(8);
  out.writeBigUInt64BE(BigInt(version));
  return out;
}

/** Decode a commit version (0 when the store has never committed). */
export function decodeVersion(bytes: Uint8Array | undefined): number {
  if (bytes === undefined) return 0;
  return Number(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).readBigUInt64BE());
}

/** How to ask LMDB for the stored keys in [sb, se). */
export interface LmdbRange {
  readonly options: { start: Buffer; end: Buffer; reverse?: boolean; exclusiveStart?: boolean; inclusiveEnd?: boolean };
  /** When false, LMDB may return keys outside [sb, se) that the caller must drop (see below). */
  readonly exact: boolean;
}

/**
 * LMDB range options for [sb, se), forwards or backwards. A bound one byte longer than LMDB's key
 * limit (the end of the range just past a longest key) cannot be passed to LMDB: it is cut to the
 * limit, both ends are made inclusive, and `exact` is false so the caller filters the rows. (No
 * stored key is longer than the limit, so the cut bound itself is the only extra key it can see.)
 */
export function lmdbRange(sb: Buffer, se: Buffer, reverse: boolean): LmdbRange {
  const lo = sb.length > LMDB_MAX_KEY_SIZE ? sb.subarray(0, LMDB_MAX_KEY_SIZE) : sb;
  const hi = se.length > LMDB_MAX_KEY_SIZE ? se.subarray(0, LMDB_MAX_KEY_SIZE) : se;
  const exact = lo === sb && hi === se;
  const options = reverse
    ? { start: hi, end: lo, reverse: true, exclusiveStart: exact, inclusiveEnd: true }
    : { start: lo, end: hi, inclusiveEnd: !exact };
  return { options, exact };
}

/** True when stored key `key` lies in [sb, se). */
export function inStoredRange(key: Buffer, sb: Buffer, se: Buffer): boolean {
  return Buffer.compare(key, sb) >= 0 && Buffer.compare(key, se) < 0;
}
