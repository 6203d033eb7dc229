import { describe, expect, it } from 'vitest';
import { pack } from '../../src/kv/tuple.js';
import {
  BlockBuilder,
  CODEC,
  decodePairs,
  encodeFooter,
  encodeFrameHead,
  encodeJsonFrame,
  encodePreamble,
  FORMAT_VERSION,
  FRAME,
} from '../../src/snapshot/format.js';
import { isCollectionPointKey, isTenantPointKey } from '../../src/snapshot/points.js';
import { formatBytes, formatDuration, Progress } from '../../src/snapshot/progress.js';
import { COLLECTION_DATA, RECORD_ROOT } from '../../layers/record/layout.js';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

describe('the snapshot format (golden bytes: changing these makes existing snapshots unreadable)', () => {
  it('starts with the magic and the format version', () => {
    expect(FORMAT_VERSION).toBe(1);
    expect(hex(encodePreamble())).toBe('89' + '535452415441' + '0a' + '0001');
  });

  // The crcs were computed apart from this code (Python's zlib.crc32 over the head's 10 bytes, then the bytes).
  it('frames bytes as type, codec, raw length, stored length, crc32 of head and bytes', () => {
    const stored = Buffer.from('hello');
    expect(hex(encodeFrameHead(FRAME.data, CODEC.stored, 5, stored))).toBe('44' + '00' + '00000005' + '00000005' + 'd1821695');
    expect(hex(encodeJsonFrame(FRAME.trailer, { a: 1 }))).toBe('54' + '00' + '00000007' + '00000007' + '45dab9bc' + hex(Buffer.from('{"a":1}')));
    expect(hex(encodeFooter(21))).toBe('00000015' + '53454e44');
  });

  it('packs pairs as key length (u16), value length (u32), key, value', () => {
    const b = new BlockBuilder();
    b.add(Buffer.from('k'), Buffer.from('vv'));
    b.add(new Uint8Array(0), new Uint8Array(0));
    expect(b.pairs).toBe(2);
    const raw = b.take();
    expect(hex(raw)).toBe('0001' + '00000002' + '6b' + '7676' + '0000' + '00000000');
    expect(decodePairs(raw, 0).map(p => [hex(p.key), hex(p.value)])).toEqual([['6b', '7676'], ['', '']]);
    expect(b.size).toBe(0);
  });

  it('grows a block past its preallocation', () => {
    const b = new BlockBuilder();
    const value = Buffer.alloc(100_000, 1);
    for (let i = 0; i < 20; i++) b.add(Buffer.from([i]), value);
    const pairs = decodePairs(b.take(), 0);
    expect(pairs).toHaveLength(20);
    expect(pairs[19]?.value.length).toBe(100_000);
  });

  it('refuses a block whose pair runs past its end', () => {
    expect(() => decodePairs(Buffer.from('000100000009' + '6b', 'hex'), 77)).toThrow(expect.objectContaining({ code: 'ERR_SNAPSHOT_INVALID', details: { check: 'pairs', offset: 77 } }));
  });

  it('counts a point for each record key of the record layer, and nothing else', () => {
    const tenantKey = (id: number, part: number, point: unknown) => COLLECTION_DATA.pack([id, part, point as number]);
    expect(isTenantPointKey(tenantKey(1, 0, 7))).toBe(true);
    expect(isTenantPointKey(tenantKey(300, 0, 'abc'))).toBe(true);
    expect(isTenantPointKey(COLLECTION_DATA.pack([0, 0, 1]))).toBe(true);
    expect(isTenantPointKey(tenantKey(1, 1, 7))).toBe(false);
    expect(isTenantPointKey(COLLECTION_DATA.pack([1, 3]))).toBe(false);
    expect(isTenantPointKey(RECORD_ROOT.pack([1, 1]))).toBe(false);
    expect(isTenantPointKey(Buffer.from('kv/hello'))).toBe(false);
    expect(isCollectionPointKey(pack([0, 5]))).toBe(true);
    expect(isCollectionPointKey(pack([0]))).toBe(false);
    expect(isCollectionPointKey(pack([2, 'city', 5]))).toBe(false);
  });
});

describe('progress', () => {
  it('redraws one line on a terminal: bytes of the total, points, rate, time left', () => {
    let clock = 0;
    const written: string[] = [];
    const p = new Progress('restore f', { tty: { write: t => written.push(t) }, line: () => expect.unreachable() }, { total: 10 << 20, now: () => clock });
    clock = 1000;
    p.update(2 << 20, 1500);
    clock = 1050; // within a tenth of a second: not redrawn
    p.update(3 << 20, 1600);
    clock = 2000;
    p.finish('done');
    expect(written).toEqual([
      '\rrestore f: 2.0 MiB of 10.0 MiB (20%), 1,500 points, 2.0 MiB/s, 4s left\x1b[K',
      '\rrestore f: 3.0 MiB of 10.0 MiB (30%), 1,600 points, 1.5 MiB/s, 5s left: done\x1b[K\n',
    ]);
  });

  it('writes plain lines elsewhere, no more often than its interval', () => {
    let clock = 0;
    const lines: string[] = [];
    const p = new Progress('snapshot of tenant a', { line: t => lines.push(t) }, { now: () => clock, intervalMs: 1000 });
    for (clock = 0; clock <= 2500; clock += 100) p.update(clock * 1024, clock);
    expect(lines).toEqual([
      'snapshot of tenant a: 0 B, 0 points, 0 B/s, 0s elapsed',
      'snapshot of tenant a: 1000.0 KiB, 1,000 points, 1000.0 KiB/s, 1s elapsed',
      'snapshot of tenant a: 2.0 MiB, 2,000 points, 1000.0 KiB/s, 2s elapsed',
    ]);
    expect(formatBytes(5 * 2 ** 30)).toBe('5.0 GiB');
    expect(formatDuration(3725)).toBe('1h02m');
    expect(formatDuration(125)).toBe('2m05s');
  });
});
