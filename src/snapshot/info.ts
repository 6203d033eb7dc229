import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { StrataError } from '../errors.js';
import {
  CODEC,
  FOOTER_BYTES,
  FOOTER_MAGIC,
  FRAME,
  FRAME_HEAD_BYTES,
  FRAME_MAX_BYTES,
  frameCrc,
  parseTrailer,
  type SnapshotHeader,
  type SnapshotTrailer,
} from './format.js';
import { openSnapshot } from './read.js';

/** What a snapshot file says about itself, without reading its blocks. */
export interface SnapshotInfo {
  readonly header: SnapshotHeader;
  /** Absent when the file has no valid trailer (truncated: a restore would refuse it). */
  readonly trailer: SnapshotTrailer | undefined;
  /** Bytes of the file. */
  readonly size: number;
}

/**
 * Read a snapshot file's header (from its start) and its trailer (from its end, through the footer),
 * each checked against its crc: what `strata snapshot list` shows. It does not check the blocks in
 * between; a restore does.
 */
export async function readSnapshotInfo(path: string): Promise<SnapshotInfo> {
  const file = await open(path, 'r');
  try {
    const { size } = await file.stat();
    const stream = createReadStream(path, { highWaterMark: 64 * 1024 });
    let header: SnapshotHeader;
    try {
      header = (await openSnapshot(stream)).header;
    } finally {
      stream.destroy();
    }
    return { header, trailer: await readTrailer(file, size), size };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new StrataError('ERR_SNAPSHOT_NOT_FOUND', `no snapshot file ${path}`, { details: { path } });
    throw err;
  } finally {
    await file.close();
  }
}

async function readTrailer(file: Awaited<ReturnType<typeof open>>, size: number): Promise<SnapshotTrailer | undefined> {
  if (size < FOOTER_BYTES + FRAME_HEAD_BYTES) return undefined;
  const footer = Buffer.alloc(FOOTER_BYTES);
  await file.read(footer, 0, FOOTER_BYTES, size - FOOTER_BYTES);
  const length = footer.readUInt32BE(0);
  if (!footer.subarray(4).equals(FOOTER_MAGIC) || length < FRAME_HEAD_BYTES || length > FRAME_MAX_BYTES || length > size - FOOTER_BYTES) return undefined;
  const at = size - FOOTER_BYTES - length;
  const frame = Buffer.alloc(length);
  await file.read(frame, 0, length, at);
  const stored = frame.subarray(FRAME_HEAD_BYTES);
  const ok = frame[0] === FRAME.trailer && frame[1] === CODEC.stored && frame.readUInt32BE(6) === stored.length && frameCrc(frame, stored) === frame.readUInt32BE(10);
  if (!ok) return undefined;
  try {
    return parseTrailer(stored, at);
  } catch {
    return undefined;
  }
}
