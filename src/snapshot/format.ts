import { crc32 } from 'node:zlib';
import { StrataError } from '../errors.js';
import type { EngineName } from '../kv/types.js';

/**
 * The snapshot file format, version 1. On-disk constants: pinned by test/snapshot/format.test.ts;
 * changing them makes existing snapshots unreadable.
 *
 * ```
 * magic (8 bytes: \x89 S T R A T A \n)   format version (u16)
 * frame 'H'  the header: JSON (see SnapshotHeader)
 * frame 'D'  a block of pairs, compressed on its own … (as many as needed)
 * frame 'T'  the trailer: JSON counts (see SnapshotTrailer)
 * footer     the trailer frame's length (u32), then 'SEND'
 * ```
 *
 * A frame is `type (u8) codec (u8) raw length (u32) stored length (u32) crc32 (u32)` and the stored
 * bytes; the crc covers the frame's first 10 bytes and its stored bytes, so a flipped length is
 * caught as surely as a flipped payload. A block's raw bytes are pairs, each `key length (u16)
 * value length (u32) key value`, keys relative to what was snapshotted (the tenant's prefix, or
 * the collection's data subspace). Blocks are compressed one by one (raw deflate), so they are
 * written and read as a stream and checked before anything is written to the store. The trailer
 * counts blocks, pairs, points and raw bytes and chains the blocks' crcs, so a truncated file, a
 * lost, repeated or reordered block is refused. Integers are big-endian.
 *
 * The magic's first byte is not ASCII and it ends in a newline (as PNG's does) so a file mangled
 * by a text-mode transfer is refused at once.
 */

/** The first bytes of every snapshot file. */
export const MAGIC = Buffer.from([0x89, 0x53, 0x54, 0x52, 0x41, 0x54, 0x41, 0x0a]);
/** The format this code writes. */
export const FORMAT_VERSION = 1;
/** The formats this code reads; others are refused with `ERR_SNAPSHOT_VERSION_UNSUPPORTED`. */
export const READABLE_VERSIONS: readonly number[] = [1];
/** Magic and version. */
export const PREAMBLE_BYTES = 10;
/** The frame types. */
export const FRAME = { header: 0x48, data: 0x44, trailer: 0x54 } as const;
/** How a frame's bytes are stored. */
export const CODEC = { stored: 0, deflateRaw: 1 } as const;
/** Bytes of a frame's head: type, codec, raw length, stored length, crc32. */
export const FRAME_HEAD_BYTES = 14;
/** The footer: the trailer frame's length, then these bytes, which end every snapshot. */
export const FOOTER_MAGIC = Buffer.from('SEND', 'latin1');
export const FOOTER_BYTES = 8;
/** Raw bytes a writer puts in one block (before compression): big enough to stream fast. */
export const BLOCK_TARGET_BYTES = 1 << 20;
/**
 * The largest raw or stored frame a reader accepts. A writer's blocks stay under 1 MiB plus one pair
 * (a value is at most 100,000 bytes): a crafted length must not allocate more, and a tiny file must
 * not inflate into millions of pairs.
 */
export const FRAME_MAX_BYTES = 2 << 20;
/** Bytes of a pair's lengths. */
export const PAIR_HEAD_BYTES = 6;

/** What a snapshot holds. */
export type SnapshotKind = 'tenant' | 'collection';

/** The header: what the file is, readable without reading the rest (`strata snapshot list`). */
export interface SnapshotHeader {
  readonly kind: SnapshotKind;
  /** The tenant it was taken from. */
  readonly tenant: string;
  /** For a collection snapshot: the collection's name… */
  readonly collection?: string;
  /** …and its stored description (config, payload indexes, shard keys), without its name and id. */
  readonly collection_config?: Readonly<Record<string, unknown>>;
  /** ISO 8601 time the snapshot was started. */
  readonly created_at: string;
  readonly engine: EngineName;
  /** True when every pair was read at one version (`read_version`); false for FoundationDB's chunks. */
  readonly consistent: boolean;
  readonly read_version?: number;
  readonly strata_version: string;
}

/** The trailer: what the blocks must add up to. */
export interface SnapshotTrailer {
  readonly blocks: number;
  readonly pairs: number;
  readonly points: number;
  readonly raw_bytes: number;
  /** crc32 over every data frame's crc, in order. */
  readonly chain: number;
}

/** A key and value as a block holds them (views into the block). */
export interface Pair {
  readonly key: Uint8Array;
  readonly value: Uint8Array;
}

/** The refusal for a file that fails check `check` at byte `offset`. */
export function invalid(check: string, offset: number, message: string): StrataError {
  return new StrataError('ERR_SNAPSHOT_INVALID', `not a valid Strata snapshot: ${message} (check "${check}" at byte ${offset})`, {
    details: { check, offset },
  });
}

/** The magic and format version. */
export function encodePreamble(): Buffer {
  const out = Buffer.alloc(PREAMBLE_BYTES);
  MAGIC.copy(out, 0);
  out.writeUInt16BE(FORMAT_VERSION, MAGIC.length);
  return out;
}

/** A frame's 14-byte head for `stored` (whose raw form is `rawLength` bytes). */
export function encodeFrameHead(type: number, codec: number, rawLength: number, stored: Uint8Array): Buffer {
  const head = Buffer.allocUnsafe(FRAME_HEAD_BYTES);
  head[0] = type;
  head[1] = codec;
  head.writeUInt32BE(rawLength, 2);
  head.writeUInt32BE(stored.length, 6);
  head.writeUInt32BE(frameCrc(head, stored), 10);
  return head;
}

/** The crc a frame carries: over its first 10 bytes, then its stored bytes. */
export function frameCrc(head: Uint8Array, stored: Uint8Array): number {
  return crc32(stored, crc32(head.subarray(0, 10)));
}

/** A JSON frame (header or trailer), stored uncompressed. */
export function encodeJsonFrame(type: number, value: unknown): Buffer {
  const body = Buffer.from(JSON.stringify(value), 'utf8');
  return Buffer.concat([encodeFrameHead(type, CODEC.stored, body.length, body), body]);
}

/** The footer that follows the trailer frame. */
export function encodeFooter(trailerFrameBytes: number): Buffer {
  const out = Buffer.alloc(FOOTER_BYTES);
  out.writeUInt32BE(trailerFrameBytes, 0);
  FOOTER_MAGIC.copy(out, 4);
  return out;
}

/** The next value of the trailer's chain after a frame whose crc is `crc`. */
export function chainCrc(chain: number, crc: number): number {
  const b = Buffer.allocUnsafe(4);
  b.writeUInt32BE(crc);
  return crc32(b, chain);
}

/**
 * Pairs packed into one block's raw bytes. Preallocates a little over a block so that adding a pair
 * is two length writes and two copies.
 */
export class BlockBuilder {
  #buf = Buffer.allocUnsafe(BLOCK_TARGET_BYTES + (BLOCK_TARGET_BYTES >> 2));
  #size = 0;
  #pairs = 0;

  /** Raw bytes so far. */
  get size(): number {
    return this.#size;
  }

  /** Pairs so far. */
  get pairs(): number {
    return this.#pairs;
  }

  /** Add a pair; the key's first `skip` bytes (the prefix keys are relative to) are left out. */
  add(key: Uint8Array, value: Uint8Array, skip = 0): void {
    const keyLength = key.length - skip;
    const need = PAIR_HEAD_BYTES + keyLength + value.length;
    if (this.#size + need > this.#buf.length) {
      const bigger = Buffer.allocUnsafe(Math.max(this.#buf.length * 2, this.#size + need));
      this.#buf.copy(bigger, 0, 0, this.#size);
      this.#buf = bigger;
    }
    const buf = this.#buf;
    let at = this.#size;
    buf.writeUInt16BE(keyLength, at);
    buf.writeUInt32BE(value.length, at + 2);
    at += PAIR_HEAD_BYTES;
    // Keys are a few dozen bytes: a loop beats a native copy call (and a subarray to make one).
    for (let i = skip; i < key.length; i++) buf[at++] = key[i] as number;
    buf.set(value, at);
    this.#size = at + value.length;
    this.#pairs++;
  }

  /** The raw bytes built so far (the caller's from now on), and a fresh buffer to go on with. */
  take(): Buffer {
    const out = this.#buf.subarray(0, this.#size);
    this.#buf = Buffer.allocUnsafe(this.#buf.length);
    this.#size = 0;
    this.#pairs = 0;
    return out;
  }
}

/** The pairs in a block's raw bytes (views into `raw`); `offset` is the block's place in the file, for errors. */
export function decodePairs(raw: Buffer, offset: number): Pair[] {
  const pairs: Pair[] = [];
  let at = 0;
  while (at < raw.length) {
    if (at + PAIR_HEAD_BYTES > raw.length) throw invalid('pairs', offset, 'a block ends inside a pair');
    const keyLength = raw.readUInt16BE(at);
    const valueLength = raw.readUInt32BE(at + 2);
    const keyAt = at + PAIR_HEAD_BYTES;
    const end = keyAt + keyLength + valueLength;
    if (end > raw.length) throw invalid('pairs', offset, 'a pair runs past the end of its block');
    pairs.push({ key: raw.subarray(keyAt, keyAt + keyLength), value: raw.subarray(keyAt + keyLength, end) });
    at = end;
  }
  return pairs;
}

/** Parse and check a header frame's JSON. */
export function parseHeader(body: Buffer, offset: number): SnapshotHeader {
  const h = parseJsonObject(body, offset, 'header');
  const str = (v: unknown) => typeof v === 'string' && v !== '';
  const ok =
    (h['kind'] === 'tenant' || h['kind'] === 'collection') &&
    str(h['tenant']) &&
    str(h['created_at']) &&
    (h['engine'] === 'embedded' || h['engine'] === 'foundationdb') &&
    typeof h['consistent'] === 'boolean' &&
    (h['read_version'] === undefined || Number.isSafeInteger(h['read_version'])) &&
    typeof h['strata_version'] === 'string' &&
    (h['kind'] === 'tenant' ? h['collection'] === undefined : str(h['collection']) && isObject(h['collection_config']));
  if (!ok) throw invalid('header', offset, 'the header does not describe a tenant or collection snapshot');
  return h as unknown as SnapshotHeader;
}

/** Parse and check a trailer frame's JSON. */
export function parseTrailer(body: Buffer, offset: number): SnapshotTrailer {
  const t = parseJsonObject(body, offset, 'trailer');
  const count = (v: unknown) => Number.isSafeInteger(v) && (v as number) >= 0;
  if (!['blocks', 'pairs', 'points', 'raw_bytes', 'chain'].every(k => count(t[k]))) throw invalid('trailer', offset, 'the trailer is malformed');
  return t as unknown as SnapshotTrailer;
}

function parseJsonObject(body: Buffer, offset: number, what: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(body.toString('utf8'));
  } catch {
    throw invalid(what, offset, `the ${what} is not JSON`);
  }
  if (!isObject(value)) throw invalid(what, offset, `the ${what} is not a JSON object`);
  return value;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
