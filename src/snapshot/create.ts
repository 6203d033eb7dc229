import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { deflateRaw } from 'node:zlib';
import { StrataError } from '../errors.js';
import { concatBytes, prefixEnd } from '../kv/keys.js';
import type { Database } from '../kv/types.js';
import { decodeTenantId, TENANT_BY_NAME, tenantPrefix } from '../tenancy/layout.js';
import { tenantNameBytes } from '../tenancy/name.js';
import { VERSION } from '../version.js';
import { checkCollectionName } from '../../layers/record/collections.js';
import { COLLECTION_BY_NAME, COLLECTION_CONFIG, collectionKeys } from '../../layers/record/layout.js';
import {
  BLOCK_TARGET_BYTES,
  BlockBuilder,
  chainCrc,
  CODEC,
  encodeFooter,
  encodeFrameHead,
  encodeJsonFrame,
  encodePreamble,
  FRAME,
  FRAME_HEAD_BYTES,
  type SnapshotHeader,
  type SnapshotTrailer,
} from './format.js';
import { pointKeyTest } from './points.js';
import { openRangeSource, type RangeSource } from './source.js';

/** What to snapshot: a tenant, or one collection of it. */
export interface SnapshotTarget {
  readonly tenant: string;
  readonly collection?: string;
}

/** Options of {@link snapshotChunks}. */
export interface CreateOptions {
  /** The clock (for `created_at`), in ms. */
  readonly now?: () => number;
  /** Also compute the file's SHA-256 (Qdrant reports it as the snapshot's checksum). */
  readonly sha256?: boolean;
  /** Told after every block written: bytes of the file so far, pairs and points. */
  readonly onProgress?: (progress: { bytes: number; pairs: number; points: number }) => void;
}

/** What a finished snapshot holds. */
export interface SnapshotSummary {
  readonly header: SnapshotHeader;
  readonly trailer: SnapshotTrailer;
  /** Bytes of the file. */
  readonly bytes: number;
  /** Hex SHA-256 of the file, when asked for. */
  readonly sha256?: string;
}

/** Blocks being compressed at once (zlib runs on libuv's thread pool, so they overlap). */
const COMPRESS_AHEAD = 4;
/** Fast compression: a snapshot should stream at close to disk speed. */
const DEFLATE_LEVEL = 1;
/**
 * A block that deflate shrinks by less than this share is stored as it is, and the next
 * {@link SKIP_AFTER_POOR} blocks are not even tried: keys come in subspace order, so a run of
 * incompressible values (random float vectors) is long, and trying each block would halve the speed.
 */
const POOR_RATIO = 0.9;
const SKIP_AFTER_POOR = 8;

/**
 * A snapshot of `target` as a stream of file chunks; its return value (after the last chunk) is the
 * summary. Consistent at one version on the embedded engine; on FoundationDB read in pages of one
 * transaction each (`header.consistent` says which). Pipe it into a file or a response:
 *
 * @example
 * await pipeline(Readable.from(snapshotChunks(db, { tenant: 'acme' })), createWriteStream('acme.snapshot'));
 */
export async function* snapshotChunks(db: Database, target: SnapshotTarget, options: CreateOptions = {}): AsyncGenerator<Buffer, SnapshotSummary> {
  const now = options.now ?? Date.now;
  const hash = options.sha256 === true ? createHash('sha256') : undefined;
  let bytes = 0;
  const emit = (chunk: Buffer): Buffer => {
    bytes += chunk.length;
    hash?.update(chunk);
    return chunk;
  };
  const source = openRangeSource(db);
  try {
    const plan = await planSnapshot(source, target);
    const header: SnapshotHeader = {
      kind: target.collection === undefined ? 'tenant' : 'collection',
      tenant: target.tenant,
      ...(target.collection === undefined ? {} : { collection: target.collection, collection_config: plan.config }),
      created_at: new Date(now()).toISOString(),
      engine: db.engine,
      consistent: source.consistent,
      ...(source.readVersion === undefined ? {} : { read_version: source.readVersion }),
      strata_version: VERSION,
    };
    yield emit(encodePreamble());
    yield emit(encodeJsonFrame(FRAME.header, header));

    const isPoint = pointKeyTest(header.kind);
    const counts = { blocks: 0, pairs: 0, points: 0, raw_bytes: 0, chain: 0 };
    const builder = new BlockBuilder();
    const ahead: Array<Promise<Frame>> = [];
    let skip = 0;
    const compress = () => {
      counts.blocks++;
      counts.raw_bytes += builder.size;
      const raw = builder.take();
      const frame = skip > 0 ? Promise.resolve(storedFrame(raw)) : compressBlock(raw);
      if (skip > 0) skip--;
      else void frame.then(f => f.stored === raw && (skip = SKIP_AFTER_POOR), () => undefined);
      frame.catch(() => undefined); // awaited in order below; a failure must not go unhandled meanwhile
      ahead.push(frame);
    };
    const written = function* (frame: Frame): Generator<Buffer> {
      counts.chain = chainCrc(counts.chain, frame.crc);
      yield emit(frame.head);
      yield emit(frame.stored);
      options.onProgress?.({ bytes, pairs: counts.pairs, points: counts.points });
    };
    const cut = plan.strip;
    for await (const page of source.pages(plan.begin, plan.end)) {
      for (const { key, value } of page) {
        builder.add(key, value, cut);
        counts.pairs++;
        if (isPoint(key, cut)) counts.points++;
        if (builder.size < BLOCK_TARGET_BYTES) continue;
        compress();
        if (ahead.length >= COMPRESS_AHEAD) yield* written(await (ahead.shift() as Promise<Frame>));
      }
    }
    if (builder.size > 0) compress();
    for (const frame of ahead.splice(0)) yield* written(await frame);
    const trailer: SnapshotTrailer = { ...counts };
    const trailerFrame = encodeJsonFrame(FRAME.trailer, trailer);
    yield emit(trailerFrame);
    yield emit(encodeFooter(trailerFrame.length));
    return { header, trailer, bytes, ...(hash === undefined ? {} : { sha256: hash.digest('hex') }) };
  } finally {
    source.close();
  }
}

/**
 * Write a snapshot of `target` to `path`: written beside it first and renamed into place once whole,
 * so `path` never holds a partial snapshot. Returns the summary (`bytes` is the file's size).
 */
export async function writeSnapshotFile(db: Database, target: SnapshotTarget, path: string, options: CreateOptions = {}): Promise<SnapshotSummary> {
  // A name of its own: two snapshots to one path at once each write whole files, and the last rename wins.
  const partial = `${path}.${randomBytes(4).toString('hex')}.partial`;
  const out = createWriteStream(partial, { highWaterMark: 1 << 20 });
  // Listened for from the start: a write error must fail the snapshot, not surface as an uncaught event.
  const failed = once(out, 'error').then(([err]) => Promise.reject(err as Error));
  failed.catch(() => undefined);
  try {
    const chunks = snapshotChunks(db, target, options);
    let next = await chunks.next();
    while (next.done !== true) {
      if (!out.write(next.value)) await Promise.race([once(out, 'drain'), failed]);
      next = await chunks.next();
    }
    out.end();
    await Promise.race([once(out, 'finish'), failed]);
    await rename(partial, path);
    return next.value;
  } catch (err) {
    out.destroy();
    await rm(partial, { force: true });
    throw err;
  }
}

interface Plan {
  readonly begin: Uint8Array;
  readonly end: Uint8Array;
  /** Bytes cut from the front of every key: what the keys are relative to. */
  readonly strip: number;
  readonly config?: Record<string, unknown>;
}

/** Where the target's keys are, read from the same source (and so the same version) as its data. */
async function planSnapshot(source: RangeSource, target: SnapshotTarget): Promise<Plan> {
  const idBytes = await source.get(TENANT_BY_NAME.pack([tenantNameBytes(target.tenant)]));
  if (idBytes === undefined) {
    throw new StrataError('ERR_TENANT_NOT_FOUND', `no tenant is called ${JSON.stringify(target.tenant)}`, { details: { tenant: target.tenant } });
  }
  const prefix = tenantPrefix(decodeTenantId(idBytes));
  if (target.collection === undefined) return { begin: prefix, end: prefixEnd(prefix), strip: prefix.length };
  const name = target.collection;
  checkCollectionName(name);
  const cid = await source.get(concatBytes(prefix, COLLECTION_BY_NAME.pack([name])));
  if (cid === undefined) throw new StrataError('ERR_COLLECTION_NOT_FOUND', `Collection \`${name}\` doesn't exist!`, { details: { collection: name } });
  const id = Number(Buffer.from(cid).readBigUInt64BE());
  const raw = await source.get(concatBytes(prefix, COLLECTION_CONFIG.pack([id])));
  if (raw === undefined) throw new Error(`collection ${name} has an id but no config`);
  // The name and id are the restorer's to choose: the file keeps only what the collection is.
  const { name: _name, id: _id, ...config } = JSON.parse(Buffer.from(raw).toString('utf8')) as Record<string, unknown>;
  const data = concatBytes(prefix, collectionKeys(id).data.prefix);
  return { begin: data, end: prefixEnd(data), strip: data.length, config };
}

/** A data frame ready to write: its head, its stored bytes, and its crc (for the trailer's chain). */
interface Frame {
  readonly head: Buffer;
  readonly stored: Buffer;
  readonly crc: number;
}

function compressBlock(raw: Buffer): Promise<Frame> {
  return new Promise((resolve, reject) => {
    // One output chunk for the whole block: zlib's default 16 KiB chunks cost a thread hop each.
    deflateRaw(raw, { level: DEFLATE_LEVEL, chunkSize: raw.length + 1024 }, (err, packed) => {
      if (err !== null) return reject(err);
      // Blocks that barely shrink (random vectors) are kept as they are: faster to read back.
      resolve(packed.length < raw.length * POOR_RATIO ? frameOf(CODEC.deflateRaw, raw.length, packed) : storedFrame(raw));
    });
  });
}

function storedFrame(raw: Buffer): Frame {
  return frameOf(CODEC.stored, raw.length, raw);
}

function frameOf(codec: number, rawLength: number, stored: Buffer): Frame {
  const head = encodeFrameHead(FRAME.data, codec, rawLength, stored);
  return { head, stored, crc: head.readUInt32BE(FRAME_HEAD_BYTES - 4) };
}
