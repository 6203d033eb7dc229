import { inflateRaw } from 'node:zlib';
import { StrataError } from '../errors.js';
import {
  chainCrc,
  CODEC,
  decodePairs,
  FOOTER_BYTES,
  FOOTER_MAGIC,
  FRAME,
  FRAME_HEAD_BYTES,
  FRAME_MAX_BYTES,
  frameCrc,
  invalid,
  MAGIC,
  parseHeader,
  parseTrailer,
  PREAMBLE_BYTES,
  READABLE_VERSIONS,
  type Pair,
  type SnapshotHeader,
  type SnapshotTrailer,
} from './format.js';
import { pointKeyTest } from './points.js';

/**
 * Reading a snapshot as a stream: the header first, then each block's pairs once the block's crc
 * and length have checked out, and only at the end the trailer, its counts and chain, and the end of
 * the file. A restore writes pairs as they come (under a prefix nobody reads) but switches only when
 * the whole stream has been read without a refusal.
 */

/** A snapshot being read. */
export interface SnapshotStream {
  readonly header: SnapshotHeader;
  /**
   * The blocks' pairs in file order. Ends normally only after the trailer matched every count and
   * the file ended right after the footer; otherwise throws `ERR_SNAPSHOT_INVALID`.
   */
  blocks(): AsyncGenerator<Pair[]>;
  /** Bytes consumed from the source so far. */
  readonly offset: number;
  /** The checked trailer, once `blocks()` has finished. */
  readonly trailer: SnapshotTrailer | undefined;
}

/** Blocks being inflated ahead of the one handed out: decompression overlaps the caller's writes. */
const READ_AHEAD = 2;

/** The bytes of a snapshot: a stream (a file's, a request's) or chunks in memory. */
export type SnapshotSource = AsyncIterable<Uint8Array> | Iterable<Uint8Array>;

/** Open a snapshot: reads and checks the magic, version and header. */
export async function openSnapshot(source: SnapshotSource): Promise<SnapshotStream> {
  const bytes = new ByteSource(Symbol.asyncIterator in source ? source[Symbol.asyncIterator]() : toAsync(source[Symbol.iterator]()));
  const preamble = await bytes.readUpTo(PREAMBLE_BYTES);
  if (preamble.length < MAGIC.length || !preamble.subarray(0, MAGIC.length).equals(MAGIC)) {
    throw invalid('magic', 0, 'the file does not start with a Strata snapshot’s magic bytes');
  }
  if (preamble.length < PREAMBLE_BYTES) throw invalid('truncated', preamble.length, 'the file ends inside its preamble');
  const version = preamble.readUInt16BE(MAGIC.length);
  if (!READABLE_VERSIONS.includes(version)) {
    throw new StrataError('ERR_SNAPSHOT_VERSION_UNSUPPORTED', `the snapshot is in format version ${version}; this Strata reads version ${READABLE_VERSIONS.join(', ')}`, {
      details: { version, supported: READABLE_VERSIONS },
    });
  }
  const first = await readFrame(bytes);
  if (first.type !== FRAME.header || first.codec !== CODEC.stored) throw invalid('header', first.offset, 'the first frame is not a header');
  const header = parseHeader(first.stored, first.offset);
  const isPoint = pointKeyTest(header.kind);
  let trailer: SnapshotTrailer | undefined;

  async function* blocks(): AsyncGenerator<Pair[]> {
    const counts = { blocks: 0, pairs: 0, points: 0, raw_bytes: 0, chain: 0 };
    const ahead: Array<Promise<Pair[]>> = [];
    for (;;) {
      const frame = await readFrame(bytes);
      if (frame.type === FRAME.trailer) {
        for (const pending of ahead.splice(0)) yield count(await pending);
        trailer = await finish(frame, counts);
        return;
      }
      if (frame.type !== FRAME.data) throw invalid('frame', frame.offset, `unexpected frame type ${frame.type}`);
      counts.blocks++;
      counts.raw_bytes += frame.rawLength;
      counts.chain = chainCrc(counts.chain, frame.crc);
      const decoded = decodeBlock(frame);
      // Awaited in order below; until then a refusal must not surface as an unhandled rejection.
      decoded.catch(() => undefined);
      ahead.push(decoded);
      // Blocks are decoded ahead, but handed out in file order, after each one is whole.
      if (ahead.length > READ_AHEAD) yield count(await (ahead.shift() as Promise<Pair[]>));
    }

    function count(pairs: Pair[]): Pair[] {
      counts.pairs += pairs.length;
      for (const { key } of pairs) if (isPoint(key)) counts.points++;
      return pairs;
    }
  }

  async function finish(frame: Frame, counts: SnapshotTrailer): Promise<SnapshotTrailer> {
    if (frame.codec !== CODEC.stored) throw invalid('trailer', frame.offset, 'the trailer frame is compressed');
    const t = parseTrailer(frame.stored, frame.offset);
    for (const k of ['blocks', 'pairs', 'points', 'raw_bytes', 'chain'] as const) {
      if (t[k] !== counts[k]) throw invalid('trailer', frame.offset, `the trailer says ${k} ${t[k]} but the file holds ${counts[k]}`);
    }
    const footerAt = bytes.offset;
    const footer = await bytes.read(FOOTER_BYTES, 'the footer');
    if (!footer.subarray(4).equals(FOOTER_MAGIC) || footer.readUInt32BE(0) !== FRAME_HEAD_BYTES + frame.stored.length) {
      throw invalid('footer', footerAt, 'the footer does not close the trailer');
    }
    if (!(await bytes.atEnd())) throw invalid('trailing-bytes', bytes.offset, 'bytes follow the end of the snapshot');
    return t;
  }

  return {
    header,
    blocks,
    get offset() {
      return bytes.offset;
    },
    get trailer() {
      return trailer;
    },
  };
}

function toAsync(it: Iterator<Uint8Array>): AsyncIterator<Uint8Array> {
  return { next: async () => it.next() };
}

interface Frame {
  readonly type: number;
  readonly codec: number;
  readonly rawLength: number;
  readonly crc: number;
  readonly stored: Buffer;
  /** Where the frame starts in the file. */
  readonly offset: number;
}

/** Read one frame and check its crc and lengths. */
async function readFrame(bytes: ByteSource): Promise<Frame> {
  const offset = bytes.offset;
  const head = await bytes.read(FRAME_HEAD_BYTES, 'a frame head');
  const type = head[0] as number;
  const codec = head[1] as number;
  const rawLength = head.readUInt32BE(2);
  const storedLength = head.readUInt32BE(6);
  const crc = head.readUInt32BE(10);
  if (storedLength > FRAME_MAX_BYTES || rawLength > FRAME_MAX_BYTES) throw invalid('frame', offset, 'a frame is larger than any Strata writes');
  if (codec !== CODEC.stored && codec !== CODEC.deflateRaw) throw invalid('frame', offset, `unknown codec ${codec}`);
  if (codec === CODEC.stored && rawLength !== storedLength) throw invalid('frame', offset, 'a stored frame’s lengths differ');
  const stored = await bytes.read(storedLength, 'a frame');
  if (frameCrc(head, stored) !== crc) throw invalid('checksum', offset, 'a frame’s crc32 does not match its bytes');
  return { type, codec, rawLength, crc, stored, offset };
}

function decodeBlock(frame: Frame): Promise<Pair[]> {
  if (frame.codec === CODEC.stored) return Promise.resolve(decodePairs(frame.stored, frame.offset));
  return new Promise((resolve, reject) => {
    // The raw length bounds the output: a crafted stream cannot inflate past it.
    const size = Math.max(64, frame.rawLength);
    inflateRaw(frame.stored, { maxOutputLength: size, chunkSize: size }, (err, raw) => {
      if (err !== null) return reject(invalid('inflate', frame.offset, 'a block does not decompress'));
      if (raw.length !== frame.rawLength) return reject(invalid('inflate', frame.offset, 'a block decompresses to the wrong length'));
      try {
        resolve(decodePairs(raw, frame.offset));
      } catch (e) {
        reject(e);
      }
    });
  });
}

/** Exact-length reads over a stream of chunks, with the offset for error messages. */
class ByteSource {
  readonly #it: AsyncIterator<Uint8Array>;
  #chunks: Buffer[] = [];
  #buffered = 0;
  #done = false;
  /** Bytes handed out so far. */
  offset = 0;

  constructor(it: AsyncIterator<Uint8Array>) {
    this.#it = it;
  }

  /** Exactly `n` bytes, or `ERR_SNAPSHOT_INVALID` (truncated) naming `what` was cut. */
  async read(n: number, what: string): Promise<Buffer> {
    const out = await this.readUpTo(n);
    if (out.length < n) throw invalid('truncated', this.offset, `the file ends inside ${what}`);
    return out;
  }

  /** Up to `n` bytes: fewer only at the end of the stream. */
  async readUpTo(n: number): Promise<Buffer> {
    while (this.#buffered < n && (await this.#pull()));
    const take = Math.min(n, this.#buffered);
    const first = this.#chunks[0];
    let out: Buffer;
    if (first !== undefined && first.length >= take) {
      // Within one chunk: a view, no copy.
      out = first.subarray(0, take);
      if (first.length === take) this.#chunks.shift();
      else this.#chunks[0] = first.subarray(take);
    } else {
      // Across chunks: exactly the bytes asked for are copied; what follows stays a view.
      out = Buffer.allocUnsafe(take);
      let at = 0;
      while (at < take) {
        const chunk = this.#chunks[0] as Buffer;
        const part = Math.min(chunk.length, take - at);
        chunk.copy(out, at, 0, part);
        at += part;
        if (part === chunk.length) this.#chunks.shift();
        else this.#chunks[0] = chunk.subarray(part);
      }
    }
    this.#buffered -= take;
    this.offset += take;
    return out;
  }

  /** True when no byte is left. */
  async atEnd(): Promise<boolean> {
    while (this.#buffered === 0 && (await this.#pull()));
    return this.#buffered === 0;
  }

  async #pull(): Promise<boolean> {
    if (this.#done) return false;
    const next = await this.#it.next();
    if (next.done === true) {
      this.#done = true;
      return false;
    }
    const chunk = Buffer.isBuffer(next.value) ? next.value : Buffer.from(next.value.buffer, next.value.byteOffset, next.value.byteLength);
    if (chunk.length > 0) {
      this.#chunks.push(chunk);
      this.#buffered += chunk.length;
    }
    return true;
  }
}
