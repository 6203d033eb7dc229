import { randomBytes } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../../src/kv/open.js';
import type { Database } from '../../src/kv/types.js';
import { RESTORE_MARKERS, tenantPrefix } from '../../src/tenancy/layout.js';
import { getTenant, requireTenant } from '../../src/tenancy/registry.js';
import { tenantHandle } from '../../src/tenancy/tenant.js';
import { claimTenantId, cleanOrphanRestores } from '../../src/snapshot/claims.js';
import { snapshotChunks, writeSnapshotFile } from '../../src/snapshot/create.js';
import { FOOTER_BYTES, MAGIC, PREAMBLE_BYTES } from '../../src/snapshot/format.js';
import { restoreSnapshot, restoreSnapshotFile } from '../../src/snapshot/restore.js';
import { openSnapshot } from '../../src/snapshot/read.js';
import { pack } from '../../src/kv/tuple.js';
import { PART } from '../../layers/record/layout.js';
import { deleteCollection } from '../../layers/record/collections.js';
import { listCollections, requireCollection } from '../../layers/record/index.js';
import { collectionUsage, tenantUsage } from '../../layers/record/usage.js';
import { tempDir } from '../helpers/tmp.js';
import { craftSnapshot, pointsOf, searchesOf, seedTenant, storeDump, tenantDump } from './fixtures.js';

let db: Database;
let dir: string;
let remove: () => Promise<void>;
beforeAll(async () => {
  ({ dir, remove } = await tempDir('strata-snapshot'));
  db = await openDatabase({ dataDir: join(dir, 'db') });
  await seedTenant(db, 'acme');
}, 120_000);
afterAll(async () => {
  await db.close();
  await remove();
});

/** The refusal `p` must end in (a helper that fails when `p` resolves). */
async function refusal(p: Promise<unknown>): Promise<{ code: string; details?: Record<string, unknown> }> {
  const outcome = await p.then(
    () => undefined,
    (err: unknown) => err as { code: string; details?: Record<string, unknown> },
  );
  if (outcome === undefined) throw new Error('expected a refusal, but the restore succeeded');
  return outcome;
}

describe('tenant snapshots', () => {
  it('round-trips a tenant point for point: records, vectors, payload index, graph searches, raw keys', async () => {
    const file = join(dir, 'acme.snapshot');
    const summary = await writeSnapshotFile(db, { tenant: 'acme' }, file);
    expect(summary.header).toMatchObject({ kind: 'tenant', tenant: 'acme', engine: 'embedded', consistent: true });
    expect(summary.header.read_version).toBeGreaterThan(0);
    expect(summary.trailer.points).toBe(300);
    expect(summary.bytes).toBe((await readFile(file)).length);

    const result = await restoreSnapshotFile(db, file, { tenant: 'acme-copy' });
    expect(result).toMatchObject({ kind: 'tenant', tenant: 'acme-copy', replaced: false, points: 300, pairs: summary.trailer.pairs, bytes: summary.bytes });
    expect(await tenantDump(db, 'acme-copy')).toEqual(await tenantDump(db, 'acme'));
    expect(await pointsOf(db, 'acme-copy')).toEqual(await pointsOf(db, 'acme'));
    expect(await searchesOf(db, 'acme-copy')).toEqual(await searchesOf(db, 'acme'));
  });

  it('replaces an existing tenant in one switch: a fresh id, the old prefix cleared, the count unchanged', async () => {
    const file = join(dir, 'acme-before.snapshot');
    await writeSnapshotFile(db, { tenant: 'acme-copy' }, file);
    const before = await tenantDump(db, 'acme-copy');
    const old = await db.transact(tx => requireTenant(tx, 'acme-copy'));
    await tenantHandle(db, 'acme-copy').transact(async tx => tx.set(Buffer.from('kv/later'), Buffer.from('x')));
    const result = await restoreSnapshotFile(db, file, { tenant: 'acme-copy' });
    expect(result).toMatchObject({ replaced: true, replacedTenantId: old.id });
    expect(result.tenantId).toBeGreaterThan(old.id);
    expect(await tenantDump(db, 'acme-copy')).toEqual(before);
    const leftover = await db.transact(tx => tx.getRange(tenantPrefix(old.id), tenantPrefix(old.id + 1n), { limit: 1 }));
    expect(leftover.kvs).toEqual([]);
  });

  it('is consistent at one version while writes go on, even past the MVCC window', async () => {
    // A window of 250 ms: a transaction reading this long would fail; the snapshot reader must not.
    const { dir: d2, remove: rm2 } = await tempDir('strata-snapshot-mvcc');
    const db2 = await openDatabase({ dataDir: d2, mvccWindowMs: 250 });
    try {
      await seedTenant(db2, 'live', { points: 100 });
      const live = tenantHandle(db2, 'live');
      const counter = Buffer.from('counter');
      // Enough pairs for many pages: each page of a non-consistent read would see a later version.
      for (let i = 0; i < 10_000; i += 500) {
        await live.transact(async tx => {
          for (let j = i; j < i + 500; j++) tx.set(Buffer.from(`log/${String(j).padStart(8, '0')}`), randomBytes(1000));
          tx.add(counter, Uint8Array.of(0xf4, 0x01, 0, 0, 0, 0, 0, 0));
        });
      }
      let stop = false;
      // Each transaction bumps the counter and appends a log entry: a consistent copy has as many of one as the other.
      const writer = (async () => {
        for (let i = 10_000; !stop; i++) {
          await live.transact(async tx => {
            tx.add(counter, Uint8Array.of(1, 0, 0, 0, 0, 0, 0, 0));
            tx.set(Buffer.from(`log/${String(i).padStart(8, '0')}`), randomBytes(2000));
          });
        }
      })();
      await new Promise(resolve => setTimeout(resolve, 100));
      const chunks: Buffer[] = [];
      const gen = snapshotChunks(db2, { tenant: 'live' });
      for (let next = await gen.next(); next.done !== true; next = await gen.next()) {
        chunks.push(next.value);
        await new Promise(resolve => setTimeout(resolve, 30));
      }
      stop = true;
      await writer;
      const file = join(d2, 'live.snapshot');
      await writeFile(file, Buffer.concat(chunks));
      await restoreSnapshotFile(db2, file, { tenant: 'copy' });
            const copy = await tenantDump(db2, 'copy');
      const count = Buffer.from(copy.find(([k]) => k === counter.toString('hex'))?.[1] ?? '', 'hex').readBigUInt64LE();
      const logs = copy.filter(([k]) => k.startsWith(Buffer.from('log/').toString('hex'))).length;
      expect(logs).toBeGreaterThan(10_000);
      expect(Number(count)).toBe(logs);
      expect(chunks.length * 30).toBeGreaterThan(250 * 2); // read for longer than the window
      // The writer went on while the snapshot was read: the live tenant moved past the copy.
      expect((await tenantDump(db2, 'live')).length).toBeGreaterThan(copy.length);
    } finally {
      await db2.close();
      await rm2();
    }
  });

  it('reads in chunked transactions where the engine cannot hold a version (as on FoundationDB), and says so', async () => {
    // The same database without the capability: what a FoundationDB database looks like to a snapshot.
    const chunked: Database = { engine: 'foundationdb', transact: (fn, options) => db.transact(fn, options), close: async () => undefined };
    const file = join(dir, 'chunked.snapshot');
    const summary = await writeSnapshotFile(chunked, { tenant: 'acme' }, file);
    expect(summary.header).toMatchObject({ consistent: false, engine: 'foundationdb' });
    expect(summary.header).not.toHaveProperty('read_version');
    await restoreSnapshotFile(chunked, file, { tenant: 'chunked-copy' });
    expect(await tenantDump(db, 'chunked-copy')).toEqual(await tenantDump(db, 'acme'));
  });

  it('creates a missing tenant, and refuses a snapshot of a tenant that does not exist', async () => {
    const file = join(dir, 'acme.snapshot');
    expect((await restoreSnapshotFile(db, file, { tenant: 'brand-new' })).replaced).toBe(false);
    expect(await db.transact(tx => getTenant(tx, 'brand-new'))).toBeDefined();
    await expect(writeSnapshotFile(db, { tenant: 'nobody' }, join(dir, 'nobody.snapshot'))).rejects.toMatchObject({ code: 'ERR_TENANT_NOT_FOUND' });
  });
});

describe('collection snapshots', () => {
  it('restores a collection under a new name and a fresh id, point for point, with its index and graph', async () => {
    const file = join(dir, 'docs.snapshot');
    const summary = await writeSnapshotFile(db, { tenant: 'acme', collection: 'docs' }, file);
    expect(summary.header).toMatchObject({ kind: 'collection', tenant: 'acme', collection: 'docs' });
    expect(summary.header.collection_config).not.toHaveProperty('id');
    expect(summary.trailer.points).toBe(300);
    const usageBefore = await tenantHandle(db, 'acme').transact(tx => tenantUsage(tx));
    const result = await restoreSnapshotFile(db, file, { collection: 'docs2' });
    expect(result).toMatchObject({ kind: 'collection', tenant: 'acme', collection: 'docs2', replaced: false, points: 300 });
    // The tenant's usage gains the restored collection's, exactly.
    const docs = await tenantHandle(db, 'acme').transact(async tx => collectionUsage(tx, await requireCollection(tx, 'docs')));
    expect(await tenantHandle(db, 'acme').transact(tx => tenantUsage(tx))).toEqual({ points: usageBefore.points + 300, bytes: usageBefore.bytes + docs.payloadBytes + docs.vectorBytes });
    const [a, b] = await tenantHandle(db, 'acme').transact(tx => Promise.all([requireCollection(tx, 'docs'), requireCollection(tx, 'docs2')]));
    expect(b?.id).toBe(result.collectionId);
    expect(b?.id).not.toBe(a?.id);
    expect({ ...b, id: 0, name: '', keys: null }).toEqual({ ...a, id: 0, name: '', keys: null });
    expect(await pointsOf(db, 'acme', 'docs2')).toEqual(await pointsOf(db, 'acme', 'docs'));
    expect(await searchesOf(db, 'acme', 'docs2')).toEqual(await searchesOf(db, 'acme', 'docs'));
  });

  it('replaces a collection of the same name (Qdrant’s recovery) and clears the old one’s keys', async () => {
    const file = join(dir, 'docs2.snapshot');
    await writeSnapshotFile(db, { tenant: 'acme', collection: 'docs2' }, file);
    const old = await tenantHandle(db, 'acme').transact(tx => requireCollection(tx, 'docs2'));
    const usageBefore = await tenantHandle(db, 'acme').transact(tx => tenantUsage(tx));
    const result = await restoreSnapshotFile(db, file, { collection: 'docs2' });
    expect(result.replaced).toBe(true);
    // Replaced by an equal collection: the tenant's usage is unchanged (the old one's went out).
    expect(await tenantHandle(db, 'acme').transact(tx => tenantUsage(tx))).toEqual(usageBefore);
    expect(await pointsOf(db, 'acme', 'docs2')).toEqual(await pointsOf(db, 'acme', 'docs'));
    const { begin, end } = old.keys.data.range();
    expect((await tenantHandle(db, 'acme').transact(tx => tx.getRange(begin, end, { limit: 1 }))).kvs).toEqual([]);
    expect(await tenantHandle(db, 'acme').transact(tx => listCollections(tx))).toEqual(['docs', 'docs2']);
  });
});

describe('refusals leave the store exactly as it was', () => {
  let good: Buffer;
  let collectionFile: Buffer;
  beforeAll(async () => {
    good = await readFile(join(dir, 'acme.snapshot'));
    collectionFile = await readFile(join(dir, 'docs.snapshot'));
  });

  async function refusedWithNothingChanged(bytes: Buffer, options: Parameters<typeof restoreSnapshot>[2] = { tenant: 'acme' }) {
    const before = await storeDump(db);
    const err = await refusal(restoreSnapshot(db, [bytes], options));
    expect(await storeDump(db)).toEqual(before);
    return err;
  }

  it('refuses a corrupt file (a byte flipped in the middle) and says where', async () => {
    const bad = Buffer.from(good);
    const at = Math.floor(bad.length / 2);
    bad[at] = (bad[at] as number) ^ 0x40;
    const err = await refusedWithNothingChanged(bad);
    expect(err).toMatchObject({ code: 'ERR_SNAPSHOT_INVALID', details: { check: 'checksum' } });
    expect(err.details?.['offset']).toBeLessThanOrEqual(at);
  });

  it.each([1, 9, PREAMBLE_BYTES + 3, 100, 0.25, 0.5, 0.75, -FOOTER_BYTES - 3, -FOOTER_BYTES, -1])('refuses a file truncated at %s', async cut => {
    const at = cut > 0 && cut < 1 ? Math.floor(good.length * cut) : cut < 0 ? good.length + cut : cut;
    const err = await refusedWithNothingChanged(good.subarray(0, at));
    expect(err.code).toBe('ERR_SNAPSHOT_INVALID');
    expect(['truncated', 'magic']).toContain(err.details?.['check']);
  });

  it('refuses bytes after the end, a foreign file and an empty one', async () => {
    expect(await refusedWithNothingChanged(Buffer.concat([good, Buffer.from('x')]))).toMatchObject({ code: 'ERR_SNAPSHOT_INVALID', details: { check: 'trailing-bytes' } });
    expect(await refusedWithNothingChanged(randomBytes(100_000))).toMatchObject({ code: 'ERR_SNAPSHOT_INVALID', details: { check: 'magic', offset: 0 } });
    expect(await refusedWithNothingChanged(Buffer.from('{"snapshot": true}\n'))).toMatchObject({ code: 'ERR_SNAPSHOT_INVALID', details: { check: 'magic' } });
    expect(await refusedWithNothingChanged(Buffer.alloc(0))).toMatchObject({ code: 'ERR_SNAPSHOT_INVALID', details: { check: 'magic' } });
  });

  it('refuses a block dropped or repeated (the trailer’s counts and chain)', async () => {
    const blocks = await frames(good);
    const data = blocks.filter(f => f.type === 'D');
    expect(data.length).toBeGreaterThan(0);
    const first = data[0] as Frame;
    const dropped = Buffer.concat([good.subarray(0, first.start), good.subarray(first.end)]);
    expect(await refusedWithNothingChanged(dropped)).toMatchObject({ code: 'ERR_SNAPSHOT_INVALID', details: { check: 'trailer' } });
    // A repeated block repeats keys: refused at once, before the trailer is reached.
    const repeated = Buffer.concat([good.subarray(0, first.end), good.subarray(first.start)]);
    expect(await refusedWithNothingChanged(repeated)).toMatchObject({ code: 'ERR_SNAPSHOT_INVALID', details: { check: 'order' } });
  });

  it('refuses another format version', async () => {
    const other = Buffer.from(good);
    other.writeUInt16BE(2, MAGIC.length);
    expect(await refusedWithNothingChanged(other)).toMatchObject({ code: 'ERR_SNAPSHOT_VERSION_UNSUPPORTED', details: { version: 2 } });
  });

  it('refuses a collection file restored as a tenant, and a tenant file restored as a collection', async () => {
    expect(await refusedWithNothingChanged(collectionFile, { tenant: 'acme', kind: 'tenant' })).toMatchObject({ code: 'ERR_SNAPSHOT_KIND_MISMATCH' });
    expect(await refusedWithNothingChanged(good, { tenant: 'acme', collection: 'docs' })).toMatchObject({ code: 'ERR_SNAPSHOT_KIND_MISMATCH' });
    expect(await refusedWithNothingChanged(good, { kind: 'collection' })).toMatchObject({ code: 'ERR_SNAPSHOT_KIND_MISMATCH' });
  });

  it('refuses a file whose SHA-256 is not the checksum given', async () => {
    expect(await refusedWithNothingChanged(good, { tenant: 'acme', sha256: '00'.repeat(32) })).toMatchObject({ code: 'ERR_SNAPSHOT_INVALID', details: { check: 'sha256' } });
  });

  it('leaves no marker behind', async () => {
    expect((await db.transact(tx => tx.getRange(RESTORE_MARKERS.range().begin, RESTORE_MARKERS.range().end))).kvs).toEqual([]);
  });
});

describe('forged files (every checksum right, the content hostile)', () => {
  const collectionHeader = async () => {
    const file = await readFile(join(dir, 'docs.snapshot'));
    return (await openSnapshot([file])).header;
  };
  const record = (id: number) => [pack([PART.points, id]), Buffer.from(`\x01{"n":${id}}`, 'latin1')] as const;
  const vector = (id: number) => [pack([PART.vectors, '', id]), Buffer.alloc(32, 1)] as const;

  it('recomputes usage counters instead of trusting the file’s, so a quota cannot be slipped past', async () => {
    const header = await collectionHeader();
    // 1,000 points whose counters claim the collection holds none.
    const pairs = [];
    for (let id = 0; id < 1000; id++) pairs.push(record(id));
    pairs.push([pack([PART.count]), Buffer.alloc(8)] as const);
    for (let id = 0; id < 1000; id++) pairs.push(vector(id));
    pairs.push([pack([PART.usage, 0]), Buffer.alloc(8)] as const, [pack([PART.usage, 1]), Buffer.alloc(8)] as const);
    pairs.sort((a, b) => Buffer.compare(a[0], b[0]));
    const forged = await craftSnapshot(header, [pairs]);
    const before = await tenantHandle(db, 'acme').transact(tx => tenantUsage(tx));
    const quota = { tenantMaxPoints: before.points + 999 };
    const refused = await refusal(restoreSnapshot(db, [forged], { collection: 'forged', quota }));
    expect(refused).toMatchObject({ code: 'ERR_QUOTA_EXCEEDED' });
    expect(await tenantHandle(db, 'acme').transact(tx => tenantUsage(tx))).toEqual(before);
    await restoreSnapshot(db, [forged], { collection: 'forged' });
    const recordBytes = pairs.filter(([k]) => k[0] === pack([PART.points])[0]).reduce((n, [, v]) => n + v.length, 0);
    expect(await tenantHandle(db, 'acme').transact(async tx => collectionUsage(tx, await requireCollection(tx, 'forged')))).toEqual({ points: 1000, payloadBytes: recordBytes, vectorBytes: 32_000 });
    expect(await tenantHandle(db, 'acme').transact(tx => tenantUsage(tx))).toEqual({ points: before.points + 1000, bytes: before.bytes + recordBytes + 32_000 });
    await tenantHandle(db, 'acme').transact(tx => deleteCollection(tx, 'forged'));
  });

  it('refuses a header whose collection settings a create would refuse (a graph too big to build)', async () => {
    const header = await collectionHeader();
    const described = header.collection_config as { config: { hnsw: Record<string, unknown>; vectors: Record<string, Record<string, unknown>> } };
    const hostile = [
      { ...described, config: { ...described.config, hnsw: { ...described.config.hnsw, m: 1_000_000_000 } } },
      { ...described, config: { ...described.config, vectors: { '': { size: 10_000_000, distance: 'Cosine', extra: {} } } } },
      { ...described, indexes: { city: { type: 'geo', params: {} } } },
    ];
    for (const collection_config of hostile) {
      const err = await refusal(restoreSnapshot(db, [await craftSnapshot({ ...header, collection_config }, [[record(1)]])], { collection: 'forged' }));
      expect(err).toMatchObject({ code: 'ERR_SNAPSHOT_INVALID', details: { check: 'header' } });
    }
    expect(await tenantHandle(db, 'acme').transact(tx => listCollections(tx))).not.toContain('forged');
  });

  it('refuses keys out of order, repeated or empty: a small file cannot become millions of pairs', async () => {
    const header = await collectionHeader();
    const empty = Buffer.alloc(0);
    const cases: Array<ReadonlyArray<readonly [Uint8Array, Uint8Array]>> = [
      Array.from({ length: 50_000 }, () => [empty, empty] as const),
      [record(2), record(1)],
      [record(1), record(1)],
    ];
    for (const pairs of cases) {
      const err = await refusal(restoreSnapshot(db, [await craftSnapshot(header, [pairs])], { collection: 'forged' }));
      expect(err).toMatchObject({ code: 'ERR_SNAPSHOT_INVALID', details: { check: 'order' } });
    }
    // A block larger than any writer makes is refused before it is inflated or decoded.
    const big = Array.from({ length: 25 }, (_, i) => [pack([PART.points, i]), Buffer.alloc(99_000)] as const);
    const err = await refusal(restoreSnapshot(db, [await craftSnapshot(header, [big])], { collection: 'forged' }));
    expect(err).toMatchObject({ code: 'ERR_SNAPSHOT_INVALID', details: { check: 'frame' } });
    expect(await tenantHandle(db, 'acme').transact(tx => listCollections(tx))).not.toContain('forged');
  });

  it('writes a large collection of tiny index entries in transactions that stay inside the limit', async () => {
    const header = await collectionHeader();
    // 450,000 one-flag index entries of about ten bytes each: counted by bytes alone, one 4 MiB
    // chunk would write over 10 MB.
    const entries = Array.from({ length: 450_000 }, (_, id) => [pack([PART.index, 'a', true, id]), Buffer.alloc(0)] as const);
    const blocks = [];
    for (let i = 0; i < entries.length; i += 50_000) blocks.push(entries.slice(i, i + 50_000));
    const result = await restoreSnapshot(db, [await craftSnapshot(header, blocks)], { collection: 'flags' });
    expect(result.pairs).toBe(450_000);
    await tenantHandle(db, 'acme').transact(tx => deleteCollection(tx, 'flags'));
  }, 60_000);
});

describe('orphans of restores that died', () => {
  it('are cleaned once their heartbeat is stale, and not before', async () => {
    const claim = await claimTenantId(db, 'ghost', Date.now);
    const prefix = tenantPrefix(claim.tenantId);
    await db.transact(async tx => tx.set(Buffer.concat([prefix, Buffer.from('half')]), Buffer.from('written')));
    expect(await cleanOrphanRestores(db)).toBe(0);
    expect(await db.transact(tx => tx.get(Buffer.concat([prefix, Buffer.from('half')])))).toBeDefined();
    expect(await cleanOrphanRestores(db, { now: () => Date.now() + 10 * 60_000 })).toBe(1);
    expect((await db.transact(tx => tx.getRange(prefix, tenantPrefix(claim.tenantId + 1n)))).kvs).toEqual([]);
    expect((await db.transact(tx => tx.getRange(RESTORE_MARKERS.range().begin, RESTORE_MARKERS.range().end))).kvs).toEqual([]);
  });
});

interface Frame {
  readonly type: string;
  readonly start: number;
  readonly end: number;
}

/** The frames of a snapshot file, by their heads. */
async function frames(file: Buffer): Promise<Frame[]> {
  const out: Frame[] = [];
  let at = PREAMBLE_BYTES;
  while (at < file.length - FOOTER_BYTES) {
    const end = at + 14 + file.readUInt32BE(at + 6);
    out.push({ type: String.fromCharCode(file[at] as number), start: at, end });
    at = end;
  }
  return out;
}
